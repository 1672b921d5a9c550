import assert from 'node:assert/strict';
import { runTedge } from '../../src/cli/program';
import type { Clock } from '../../src/core/clock';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs `tedge --config-dir <dir> ...args` in-process, as bin does, and captures both streams. */
export async function runTedgeIn(dir: string, args: readonly string[], opts: { env?: Record<string, string>; clock?: Clock } = {}): Promise<CliRun> {
  let out = '';
  let err = '';
  const deps = { out: (s: string) => (out += s), err: (s: string) => (err += s), env: opts.env ?? {}, version: '9.9.9', ...(opts.clock ? { clock: opts.clock } : {}) };
  const code = await runTedge(['--config-dir', dir, ...args], deps);
  return { code, out, err };
}

/** One line on stderr, `error: ...`, matching `pattern`. */
export function assertOneErrorLine(run: CliRun, pattern: RegExp): void {
  const lines = run.err.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected one error line, got:\n${run.err}`);
  assert.match(lines[0] ?? '', /^error: /);
  assert.match(lines[0] ?? '', pattern);
}
