import { durationMs } from '../../../config/value-types';
import type { HandlerContext } from '../operation';
import { runPlugin } from '../software/plugin-exec';
import { describeExit } from '../software/protocol';

/**
 * The firmware backend protocol (argv only, never a shell): an executable named by firmware.backend
 *   install FILE --name N --version V   write the inactive slot, arm it for one trial boot; exit 0 = reboot needed;
 *                                       may print the slot it wrote as its last stdout line
 *   booted-slot                         print the booted slot's name
 *   mark-good                           make the booted slot permanent
 *   mark-bad                            the installed image must not boot again: the slot that ran before
 *                                       the install is the primary again (called on the trial slot, or on
 *                                       the old slot when the trial reboot never happened)
 * A call running longer than firmware.backend_timeout is killed with its process group.
 */
export interface FirmwareBackend {
  install(file: string, name: string, version: string): Promise<BackendResult>;
  bootedSlot(): Promise<BackendResult>;
  markGood(): Promise<BackendResult>;
  markBad(): Promise<BackendResult>;
}

export type BackendResult = { readonly ok: true; readonly output: string } | { readonly ok: false; readonly reason: string };

/** The last non-empty line of a backend's stdout: the slot name `booted-slot` and `install` print. */
export function lastLine(stdout: string): string | undefined {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .at(-1);
}

/** `firmware.verify`: a JSON array of strings, or words split on spaces. */
export function parseArgv(text: string): string[] {
  const t = text.trim();
  if (t.startsWith('[')) {
    const v: unknown = JSON.parse(t);
    if (!Array.isArray(v) || v.length === 0 || !v.every((s): s is string => typeof s === 'string')) throw new Error('firmware.verify: expected a JSON array of strings');
    return v;
  }
  return t.split(/\s+/).filter((w) => w !== '');
}

export interface ProcessCall {
  readonly ctx: HandlerContext;
  readonly signal: AbortSignal;
  readonly log: (line: string) => void;
}

/** Runs `[path, ...args]` through the plugin runner (process group, timeout, sudo per sudo.enable). */
export async function runTool(path: string, args: readonly string[], call: ProcessCall): Promise<BackendResult> {
  const timeoutMs = durationMs(call.ctx.config.string('firmware.backend_timeout'));
  const r = await runPlugin({ path, args, timeoutMs, signal: call.signal, sudo: call.ctx.config.boolean('sudo.enable'), log: call.log });
  if (r.exit.kind === 'exited' && r.exit.code === 0) return { ok: true, output: r.stdout };
  // describeExit speaks of software.plugin.timeout; the firmware key is firmware.backend_timeout.
  const how = r.exit.kind === 'timeout' ? `timed out after ${Math.round(r.exit.afterMs / 1000)} s and was killed (firmware.backend_timeout)` : describeExit(r.exit, r.stderr);
  return { ok: false, reason: `${[path, ...args].join(' ')}: ${how}` };
}

/** The backend named by firmware.backend. */
export function processBackend(path: string, call: ProcessCall): FirmwareBackend {
  return {
    install: (file, name, version) => runTool(path, ['install', file, '--name', name, '--version', version], call),
    bootedSlot: () => runTool(path, ['booted-slot'], call),
    markGood: () => runTool(path, ['mark-good'], call),
    markBad: () => runTool(path, ['mark-bad'], call),
  };
}
