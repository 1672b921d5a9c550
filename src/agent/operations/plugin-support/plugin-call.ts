import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { findOnPath, pluginArgv } from '../software/plugin-exec';

/**
 * One call of a config or log plugin (`list`, `get <type>`, `prepare …`): argv only, never a shell;
 * through `sudo -n` when sudo.enable and sudo is installed (thin-edge's rule). Unlike software plugins,
 * `get` prints file contents, possibly large and binary: its stdout goes to a file, byte for byte, and
 * is not copied into the command log.
 */
export interface PluginCallSpec {
  readonly path: string;
  readonly args: readonly string[];
  readonly sudo: boolean;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** stdout goes to this file (created/truncated); otherwise it is captured (bounded) as text. */
  readonly stdoutFile?: string;
  readonly log?: (line: string) => void;
}

export type CallExit =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'signalled'; readonly signal: string }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'aborted' }
  | { readonly kind: 'spawn-error'; readonly message: string };

export interface CallResult {
  readonly exit: CallExit;
  /** Captured stdout (empty when it went to a file). */
  readonly stdout: string;
  readonly stderr: string;
}

const MAX_CAPTURE = 1024 * 1024;
const KILL_GRACE_MS = 2000;

/** Why a call did not succeed, for a reason: the exit and the plugin's own words (stderr). */
export function describeFailure(name: string, action: string, r: CallResult): string {
  const how = (() => {
    switch (r.exit.kind) {
      case 'exited':
        return `exited with ${r.exit.code}`;
      case 'signalled':
        return `was killed by ${r.exit.signal}`;
      case 'timeout':
        return 'timed out';
      case 'aborted':
        return 'was stopped (agent stopping)';
      case 'spawn-error':
        return `could not be started: ${r.exit.message}`;
    }
  })();
  const stderr = r.stderr.trim();
  return `plugin ${name} ${action} ${how}${stderr ? `: ${stderr}` : ''}`;
}

export function succeeded(r: CallResult): boolean {
  return r.exit.kind === 'exited' && r.exit.code === 0;
}

/** Runs the plugin to completion; never rejects (how it ended is in `exit`). Killed as a process group. */
export async function callPlugin(spec: PluginCallSpec): Promise<CallResult> {
  const argv = pluginArgv(spec, spec.sudo ? findOnPath('sudo') : undefined);
  const [program = spec.path, ...args] = argv;
  spec.log?.(`----- $ ${argv.join(' ')}`);
  const out = spec.stdoutFile === undefined ? undefined : await open(spec.stdoutFile, 'w');
  try {
    return await new Promise<CallResult>((resolve) => {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let captured = 0;
      let killedFor: 'timeout' | 'aborted' | undefined;
      let done = false;
      const child = spawn(program, args, {
        stdio: ['ignore', out === undefined ? 'pipe' : out.fd, 'pipe'],
        detached: true,
      });
      const kill = (sig: NodeJS.Signals): void => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, sig);
        } catch {
          // gone
        }
      };
      let grace: NodeJS.Timeout | undefined;
      const terminate = (why: 'timeout' | 'aborted'): void => {
        if (killedFor !== undefined) return;
        killedFor = why;
        kill('SIGTERM');
        grace = setTimeout(() => kill('SIGKILL'), KILL_GRACE_MS);
      };
      const timer = setTimeout(() => terminate('timeout'), spec.timeoutMs);
      const onAbort = (): void => terminate('aborted');
      spec.signal.addEventListener('abort', onAbort, { once: true });
      const finish = (exit: CallExit): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (grace) clearTimeout(grace);
        spec.signal.removeEventListener('abort', onAbort);
        const result = { exit, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
        for (const line of result.stdout.trimEnd().split('\n')) if (line !== '') spec.log?.(`stdout: ${line}`);
        for (const line of result.stderr.trimEnd().split('\n')) if (line !== '') spec.log?.(`stderr: ${line}`);
        spec.log?.(`exit: ${JSON.stringify(exit)}`);
        resolve(result);
      };
      const push = (into: Buffer[]) => (d: Buffer) => {
        if (captured >= MAX_CAPTURE) return;
        captured += d.length;
        into.push(d);
      };
      child.stdout?.on('data', push(stdout));
      child.stderr?.on('data', push(stderr));
      child.on('error', (e) => finish({ kind: 'spawn-error', message: e.message }));
      child.on('close', (code, signal) => {
        if (killedFor !== undefined) finish({ kind: killedFor });
        else if (code !== null) finish({ kind: 'exited', code });
        else finish({ kind: 'signalled', signal: signal ?? 'unknown' });
      });
      if (spec.signal.aborted) terminate('aborted');
    });
  } finally {
    if (out) {
      await out.sync().catch(() => undefined);
      await out.close();
    }
  }
}

/** The JSON a plugin prints between `:::begin-tedge:::` and `:::end-tedge:::` (thin-edge's script output). */
export function scriptOutput(stdout: string): Record<string, unknown> | undefined {
  const m = /:::begin-tedge:::\r?\n([\s\S]*?)\r?\n?:::end-tedge:::/.exec(stdout);
  if (!m || m[1] === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(m[1]);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
