import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { confinedPath, parseTransferPath } from '../../../src/agent/http/file-path';

describe('parseTransferPath: what a /te/v1/files/<path> may name', () => {
  const accepted: Array<[string, string[]]> = [
    ['file', ['file']],
    ['some/dir/file', ['some', 'dir', 'file']],
    ['some/file/', ['some', 'file']],
    ['config_update/mosquitto/mosquitto.conf', ['config_update', 'mosquitto', 'mosquitto.conf']],
    ['with%20space.txt', ['with space.txt']],
    ['.hidden', ['.hidden']],
    ['a..b', ['a..b']],
    ['...', ['...']],
  ];
  for (const [raw, segments] of accepted) {
    it(`accepts ${JSON.stringify(raw)}`, () => assert.deepEqual(parseTransferPath(raw), { ok: true, segments }));
  }

  const refused: Array<[string, RegExp]> = [
    ['', /empty/],
    ['/etc/passwd', /absolute/],
    ['//etc/passwd', /absolute/],
    ['..', /'\.\.'/],
    ['../x', /'\.\.'/],
    ['a/../../x', /'\.\.'/],
    ['a/..', /'\.\.'/],
    ['./x', /'\.'/],
    ['a/./b', /'\.'/],
    ['%2e%2e/x', /'\.\.'/],
    ['%2E%2E/x', /'\.\.'/],
    ['.%2e/x', /'\.\.'/],
    ['a/%2e%2e', /'\.\.'/],
    ['..%2fx', /\/, \\ or NUL/],
    ['%2e%2e%2fetc%2fpasswd', /\/, \\ or NUL/],
    ['%2Fetc%2Fpasswd', /\/, \\ or NUL/],
    ['a%2fb', /\/, \\ or NUL/],
    ['..\\x', /\/, \\ or NUL/],
    ['a\\b', /\/, \\ or NUL/],
    ['%5c..%5cx', /\/, \\ or NUL/],
    ['a%00b', /\/, \\ or NUL/],
    ['a\u0000b', /\/, \\ or NUL/],
    ['a//b', /empty path segment/],
    ['%', /percent-encoding/],
    ['%zz', /percent-encoding/],
    ['%c0%ae%c0%ae/x', /percent-encoding/],
  ];
  for (const [raw, why] of refused) {
    it(`refuses ${JSON.stringify(raw)}`, () => {
      const r = parseTransferPath(raw);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.reason, why);
    });
  }
});

describe('confinedPath: symlinks may not lead out of the root', () => {
  let dir: string;
  let root: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-fts-unit-'));
    root = join(dir, 'file-transfer');
    mkdirSync(join(root, 'inside'), { recursive: true });
    mkdirSync(join(dir, 'outside'));
    symlinkSync(join(dir, 'outside'), join(root, 'out-dir'));
    symlinkSync(join(dir, 'outside', 'secret'), join(root, 'out-file'));
    symlinkSync('/nonexistent/dangling', join(root, 'dangling'));
    symlinkSync(join(root, 'inside'), join(root, 'in-dir'));
    symlinkSync('../..', join(root, 'inside', 'up'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const table: Array<[string[], boolean]> = [
    [['new-file'], true],
    [['inside', 'x'], true],
    [['new-dir', 'deeper', 'x'], true],
    [['in-dir', 'x'], true],
    [['out-dir', 'x'], false],
    [['out-dir'], false],
    [['out-file'], false],
    [['dangling'], false],
    [['inside', 'up', 'x'], false],
  ];
  for (const [segments, ok] of table) {
    it(`${ok ? 'allows' : 'refuses'} ${segments.join('/')}`, async () => {
      const p = await confinedPath(root, segments);
      if (ok) assert.equal(p, join(root, ...segments));
      else assert.equal(p, undefined);
    });
  }
});
