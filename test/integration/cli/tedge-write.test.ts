import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { deployFile } from '../../../src/agent/tedge-write/privileged-write';
import { BIN_DIR } from '../../helpers/daemon';

/** Runs `node <script> args` with `input` on stdin. */
function run(script: string, args: readonly string[], input: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code) => resolve({ code: code ?? -1, stderr }));
    p.stdin.end(input);
  });
}

const TEDGE = join(BIN_DIR, 'tedge.js');
const mode = (p: string): number => statSync(p).mode & 0o777;

describe('tedge write / tedge-write', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-write-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes stdin to a new file with the given mode', async () => {
    const dest = join(dir, 'new.conf');
    const r = await run(TEDGE, ['write', dest, '--mode', '600'], 'hello\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(dest, 'utf8'), 'hello\n');
    assert.equal(mode(dest), 0o600);
  });

  it('replaces an existing file keeping its mode (--mode applies to new files only)', async () => {
    const dest = join(dir, 'old.conf');
    writeFileSync(dest, 'old', { mode: 0o640 });
    const r = await run(TEDGE, ['write', dest, '--mode', '666'], 'new');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(dest, 'utf8'), 'new');
    assert.equal(mode(dest), 0o640);
  });

  it('is the same command under the multi-call name tedge-write', async () => {
    const link = join(dir, 'tedge-write');
    symlinkSync(TEDGE, link);
    const dest = join(dir, 'via-link.conf');
    const r = await run(link, [dest, '--user', 'root', '--group', '0'], 'x');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(dest, 'utf8'), 'x');
  });

  it('refuses relative and non-canonical destinations, bad modes and unknown users (usage, exit 2)', async () => {
    for (const [args, pattern] of [
      [['write', 'relative.conf'], /has to be absolute/],
      [['write', `${dir}/../x`], /is not canonical/],
      [['write', join(dir, 'y'), '--mode', '9z'], /invalid mode/],
      [['write', join(dir, 'y'), '--user', 'no-such-user-xyz'], /no such user/],
    ] as const) {
      const r = await run(TEDGE, args, 'x');
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
    }
    const r = await run(TEDGE, ['write', join(dir, 'missing-dir', 'f')], 'x');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /failed to write to destination file/);
  });

  it('deployFile goes through tedge-write when the direct write is refused', async () => {
    const from = join(dir, 'src');
    const dest = join(dir, 'target.conf');
    writeFileSync(from, 'deployed');
    const lines: string[] = [];
    const refused = async (): Promise<void> => {
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    };
    const how = await deployFile(from, dest, { mode: 0o604 }, { sudo: false, tedgeWrite: [process.execPath, TEDGE, 'write'], writeDirect: refused, log: (l) => lines.push(l) });
    assert.equal(how, 'tedge-write');
    assert.equal(readFileSync(dest, 'utf8'), 'deployed');
    assert.equal(mode(dest), 0o604);
    assert.ok(lines.some((l) => l.includes('through tedge-write')));
    // A failing tedge-write ends with its own words.
    await assert.rejects(
      deployFile(from, join(dir, 'nodir', 'f'), {}, { sudo: false, tedgeWrite: [process.execPath, TEDGE, 'write'], writeDirect: refused }),
      /exited with 1: error: failed to write to destination file/,
    );
  });

  it('deployFile writes directly when it may, keeping the mode of the file it replaces', async () => {
    const from = join(dir, 'src');
    const dest = join(dir, 'target.conf');
    writeFileSync(from, 'v2');
    writeFileSync(dest, 'v1', { mode: 0o600 });
    assert.equal(await deployFile(from, dest, { mode: 0o644 }, { sudo: false }), 'direct');
    assert.equal(readFileSync(dest, 'utf8'), 'v2');
    assert.equal(mode(dest), 0o600);
  });
});
