import { spawn } from 'node:child_process';
import type { ScriptEnd } from './outcomes';

/** What a script printed (stdout bounded: only the JSON excerpt of it matters) and how it ended. */
export interface ScriptResult {
  readonly end: ScriptEnd;
  readonly stdout: string;
  readonly stderr: string;
}

const MAX_OUTPUT = 1024 * 1024;

/**
 * Runs argv (never through a shell) to its end. Past `timeoutSeconds` it gets SIGTERM, then SIGKILL
 * after thin-edge's grace (max(60 s, timeout / 20), capped by `killGraceMs` for tests); when the agent
 * stops (`signal`) SIGTERM, then SIGKILL after 2 s.
 */
export function runScript(argv: readonly string[], opts: { readonly signal: AbortSignal; readonly timeoutSeconds?: number; readonly env?: NodeJS.ProcessEnv; readonly killGraceMs?: number }): Promise<ScriptResult> {
  const [program, ...args] = argv;
  if (program === undefined) return Promise.resolve({ end: { kind: 'launch-error', message: 'empty command' }, stdout: '', stderr: '' });
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timers: NodeJS.Timeout[] = [];
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const terminate = (graceMs: number): void => {
      child.kill('SIGTERM');
      timers.push(setTimeout(() => child.kill('SIGKILL'), graceMs).unref());
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += d;
    });
    const onAbort = (): void => terminate(2000);
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
    if (opts.timeoutSeconds !== undefined && opts.timeoutSeconds > 0) {
      const t = opts.timeoutSeconds;
      timers.push(
        setTimeout(() => {
          timedOut = true;
          terminate(Math.min(opts.killGraceMs ?? Number.POSITIVE_INFINITY, Math.max(60, t / 20) * 1000));
        }, t * 1000),
      );
    }
    let settled = false;
    const finish = (end: ScriptEnd): void => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      resolve({ end, stdout, stderr });
    };
    child.on('error', (err) => finish({ kind: 'launch-error', message: err.message }));
    child.on('close', (code, sig) => {
      if (timedOut) finish({ kind: 'timeout', seconds: opts.timeoutSeconds ?? 0 });
      else if (code === null) finish({ kind: 'signal', signal: sig ?? 'unknown' });
      else finish({ kind: 'exit', code });
    });
  });
}

/** Launched and left alone: its own process group, nothing inherited, so it outlives an agent restart. */
export function launchBackground(argv: readonly string[], env?: NodeJS.ProcessEnv): Promise<void> {
  const [program, ...args] = argv;
  if (program === undefined) return Promise.reject(new Error('empty command'));
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: 'ignore', detached: true, env: env ?? process.env });
    child.once('error', reject);
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}
