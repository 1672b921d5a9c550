import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Clock } from '../../../core/clock';
import { errorMessage } from '../../../core/errors';
import { type Argv, type CommandResult, type CommandRunner, type SystemConfig, execCommand, formatCommand, loadSystemConfig } from '../../../connect/system-services';
import type { JsonObject } from '../../../core/json';
import { systemClock } from '../../../runtime/system-clock';
import type { CommandRun, HandlerContext, OperationHandler, Outcome } from '../operation';
import { type RebootMarker, markerPath, readMarker, removeMarker, systemBootTime, writeMarker } from './reboot-marker';

export const DEFAULT_REBOOT_TIMEOUT_SECONDS = 120;
const SYNC_TIMEOUT_MS = 60_000;

export interface RestartDeps {
  /** `<config-dir>/system.toml`, read at each restart so an edit needs no agent restart. */
  readonly loadSystem: (configDir: string) => SystemConfig;
  readonly runner: CommandRunner;
  readonly clock: Clock;
  /** When the system booted (Linux: /proc/stat btime); undefined when unknown. */
  readonly bootTime: () => Date | undefined;
  /** Resolves after `ms` or as soon as `signal` aborts. */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Whether a program is installed (for `sudo`). */
  readonly onPath?: (program: string) => boolean;
  readonly isRoot?: () => boolean;
}

/**
 * `restart` (§4.1): once the executor has persisted `executing`, `prepare` writes the reboot marker
 * under run.path (before `executing` is published); `execute` runs `sync` and the reboot command of
 * system.toml `[system] reboot` (an argv, never through a shell) and waits `reboot_timeout_seconds` to
 * be stopped by the reboot. At the next start `resume` tells a reboot (marker gone, or the system booted
 * after it was written) from a restart of the agent alone. The one window it cannot tell: killed between
 * persisting `executing` and writing the marker (two synchronous writes; nobody has seen `executing`
 * yet), it is taken for a reboot.
 */
export class RestartHandler implements OperationHandler {
  readonly operation = 'restart';

  constructor(private readonly deps: RestartDeps) {}

  async capability(): Promise<JsonObject> {
    return {};
  }

  /** Before anyone sees `executing`: the marker, so that a restart of the agent alone is always told apart. */
  async prepare(run: CommandRun): Promise<void> {
    const runDir = run.context.config.string('run.path');
    writeMarker(runDir, { cmdId: run.cmdId, requestedAt: this.deps.clock.now() });
    run.log(`reboot marker written: ${markerPath(runDir)}`);
  }

  async execute(run: CommandRun): Promise<Outcome> {
    const { context, signal } = run;
    const runDir = context.config.string('run.path');
    let system: SystemConfig;
    try {
      system = this.deps.loadSystem(context.configDir);
    } catch (err) {
      removeMarker(runDir);
      throw err;
    }
    const timeoutS = system.rebootTimeoutSeconds ?? DEFAULT_REBOOT_TIMEOUT_SECONDS;
    const requestedAt = this.deps.clock.now();

    const sync = this.privileged(['sync'], context);
    const synced = await this.runCommand(sync, SYNC_TIMEOUT_MS, signal);
    // A failed sync is no reason to refuse the reboot the user asked for: a reboot syncs too.
    run.log(typeof synced === 'string' ? `${formatCommand(sync)}: ${synced}` : `${formatCommand(sync)}: ${describe(synced)}`);
    if (signal.aborted) return stopping();

    const reboot = this.privileged(system.reboot, context);
    run.log(`rebooting with ${formatCommand(reboot)} (commands from ${system.source}); waiting up to ${timeoutS} s`);
    const result = await this.runCommand(reboot, timeoutS * 1000, signal);
    if (signal.aborted) return stopping();
    if (typeof result === 'string' || (result.exitCode !== 0 && result.exitCode !== null)) {
      removeMarker(runDir);
      return { status: 'failed', reason: `the reboot command ${formatCommand(reboot)} failed: ${typeof result === 'string' ? result : describe(result)}` };
    }
    const left = requestedAt.getTime() + timeoutS * 1000 - this.deps.clock.now().getTime();
    if (left > 0) await this.deps.sleep(left, signal);
    if (signal.aborted) return stopping();
    removeMarker(runDir);
    return { status: 'failed', reason: `the device did not reboot within ${timeoutS} s (reboot_timeout_seconds) after ${formatCommand(reboot)}` };
  }

  async resume(run: CommandRun): Promise<Outcome> {
    const runDir = run.context.config.string('run.path');
    const marker = readMarker(runDir);
    const outcome = rebootOutcome(marker, this.deps.bootTime());
    run.log(marker === undefined ? 'no reboot marker: the device rebooted' : `reboot marker still there (${markerPath(runDir)})`);
    removeMarker(runDir);
    return outcome;
  }

  /** thin-edge runs `sudo sync` and `sudo init 6`; `-n` so a password prompt fails instead of hanging. */
  private privileged(command: Argv, ctx: HandlerContext): Argv {
    const isRoot = this.deps.isRoot ?? (() => process.getuid?.() === 0);
    const onPath = this.deps.onPath ?? isOnPath;
    if (!ctx.config.boolean('sudo.enable') || isRoot() || !onPath('sudo')) return command;
    return ['sudo', '-n', ...command];
  }

  /** The result, or why the command could not be started; gives up waiting when the agent stops. */
  private async runCommand(command: Argv, timeoutMs: number, signal: AbortSignal): Promise<CommandResult | string> {
    const running = this.deps.runner(command, timeoutMs).catch((err: unknown) => `cannot run it: ${errorMessage(err)}`);
    const aborted = new Promise<string>((resolve) => {
      if (signal.aborted) resolve('the agent is stopping');
      signal.addEventListener('abort', () => resolve('the agent is stopping'), { once: true });
    });
    return Promise.race([running, aborted]);
  }
}

/**
 * Pure: after an agent restart with a restart command in flight, did the device reboot?
 * Yes when the marker is gone (/run was cleared) or the system booted after the marker was written.
 */
export function rebootOutcome(marker: RebootMarker | 'unreadable' | undefined, bootTime: Date | undefined): Outcome {
  if (marker === undefined) return { status: 'successful' };
  if (marker !== 'unreadable' && bootTime !== undefined && bootTime.getTime() > marker.requestedAt.getTime()) return { status: 'successful' };
  return { status: 'failed', reason: 'the agent restarted but the device did not reboot (the reboot marker is still there)' };
}

/** Dropped by the executor, which resumes the command at the next start. */
function stopping(): Outcome {
  return { status: 'failed', reason: 'the agent stopped while the device was rebooting' };
}

function describe(r: CommandResult): string {
  const detail = r.stderr.trim().split('\n').filter((l) => l.trim() !== '').at(-1);
  const how = r.exitCode === null ? `killed by ${r.signal ?? 'a signal'}` : `exit code ${r.exitCode}`;
  return detail === undefined ? how : `${how}: ${detail}`;
}

function isOnPath(program: string): boolean {
  return (process.env['PATH'] ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, program)));
}

/** The restart handler of a running agent: the real clock, /proc/stat, system.toml and execFile. */
export function systemRestartHandler(): RestartHandler {
  return new RestartHandler({
    loadSystem: loadSystemConfig,
    runner: execCommand,
    clock: systemClock,
    bootTime: () => systemBootTime(),
    sleep: abortableSleep,
  });
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
