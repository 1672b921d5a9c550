import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { PluginExit } from './protocol';

/** One call of a plugin executable: argv only, never a shell. */
export interface PluginCall {
  readonly path: string;
  readonly args: readonly string[];
  /** Written to the plugin's stdin, then closed (update-list); without it stdin is closed at once. */
  readonly stdin?: string;
  /** software.plugin.timeout: the plugin (its whole process group) is killed after this long. */
  readonly timeoutMs: number;
  /** The command run's signal: aborted when the agent stops. */
  readonly signal: AbortSignal;
  /** sudo.enable: run as `sudo -n <path> …` when sudo is installed, directly otherwise (thin-edge's rule). */
  readonly sudo: boolean;
  readonly log?: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
}

export interface PluginResult {
  readonly exit: PluginExit;
  readonly stdout: string;
  readonly stderr: string;
}

/** Output kept per stream; a plugin printing more is cut (and says so in the log). */
const MAX_OUTPUT = 32 * 1024 * 1024;
/** SIGTERM first, so sudo forwards it and scripts can clean up; SIGKILL after this. */
const KILL_GRACE_MS = 2000;
/** After the plugin exited, how long a grandchild may keep its pipes open before they are dropped. */
const CLOSE_GRACE_MS = 1000;

/** An executable named `name` on PATH, or undefined. */
export function findOnPath(name: string, path = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The argv of a call: `sudo -n` (non-interactive: a password prompt would hang) when enabled and present. */
export function pluginArgv(call: Pick<PluginCall, 'path' | 'args' | 'sudo'>, sudoPath: string | undefined): string[] {
  return call.sudo && sudoPath !== undefined ? [sudoPath, '-n', call.path, ...call.args] : [call.path, ...call.args];
}

class Capture {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  push(chunk: Buffer): void {
    if (this.size >= MAX_OUTPUT) {
      this.truncated = true;
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Sends a signal to the plugin's process group (it was started as a group leader), else to it alone. */
function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/**
 * Runs a plugin to completion. Never rejects: how it ended is in `exit`. The plugin is its own
 * process group, so a timeout or the agent stopping also ends what it started (a hanging `sleep`).
 */
export function runPlugin(call: PluginCall): Promise<PluginResult> {
  const argv = pluginArgv(call, call.sudo ? findOnPath('sudo', call.env?.['PATH'] ?? process.env['PATH']) : undefined);
  const [program = call.path, ...args] = argv;
  call.log?.(`----- $ ${argv.join(' ')}`);
  if (call.stdin !== undefined && call.stdin !== '') for (const line of call.stdin.trimEnd().split('\n')) call.log?.(`stdin: ${line}`);

  return new Promise((resolve) => {
    const stdout = new Capture();
    const stderr = new Capture();
    let killedFor: 'timeout' | 'aborted' | undefined;
    let settled = false;
    let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const timers: NodeJS.Timeout[] = [];

    const child = spawn(program, args, {
      stdio: [call.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: true,
      env: call.env ?? process.env,
    });

    const finish = (exit: PluginExit): void => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      call.signal.removeEventListener('abort', onAbort);
      const out = stdout.text();
      const err = stderr.text();
      for (const line of out.trimEnd().split('\n')) if (line !== '') call.log?.(`stdout: ${line}`);
      for (const line of err.trimEnd().split('\n')) if (line !== '') call.log?.(`stderr: ${line}`);
      if (stdout.truncated || stderr.truncated) call.log?.(`output cut at ${MAX_OUTPUT} bytes per stream`);
      call.log?.(`exit: ${JSON.stringify(exit)}`);
      resolve({ exit, stdout: out, stderr: err });
    };

    const terminate = (why: 'timeout' | 'aborted'): void => {
      if (killedFor !== undefined || exitInfo !== undefined) return;
      killedFor = why;
      killGroup(child.pid, 'SIGTERM');
      timers.push(setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS));
    };
    const onAbort = (): void => terminate('aborted');

    const ended = (): void => {
      if (exitInfo === undefined) return;
      if (killedFor === 'timeout') finish({ kind: 'timeout', afterMs: call.timeoutMs });
      else if (killedFor === 'aborted') finish({ kind: 'aborted' });
      else if (exitInfo.code !== null) finish({ kind: 'exited', code: exitInfo.code });
      else finish({ kind: 'signalled', signal: exitInfo.signal ?? 'unknown signal' });
    };

    child.stdout?.on('data', (d: Buffer) => stdout.push(d));
    child.stderr?.on('data', (d: Buffer) => stderr.push(d));
    child.on('error', (err) => {
      // spawn failures (ENOENT, EACCES) come here without an exit event.
      if (exitInfo === undefined) finish({ kind: 'spawn-error', message: err.message });
    });
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      // A grandchild may hold stdout open: wait for it briefly, then give up on the pipes.
      timers.push(
        setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          ended();
        }, CLOSE_GRACE_MS),
      );
    });
    child.on('close', ended);

    if (call.signal.aborted) terminate('aborted');
    else call.signal.addEventListener('abort', onAbort, { once: true });
    timers.push(setTimeout(() => terminate('timeout'), call.timeoutMs));

    if (child.stdin) {
      // A plugin that does not read stdin (update-list unsupported) may exit before we wrote it all.
      child.stdin.on('error', () => undefined);
      child.stdin.end(call.stdin ?? '');
    }
  });
}
