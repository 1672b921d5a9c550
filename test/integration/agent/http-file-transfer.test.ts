import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { HttpAgentUnderTest } from '../../helpers/agent-http';

/** Every file under `dir` with its size, as `relative/path:size`, for before/after comparisons. */
function tree(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tree(p, base);
    return [`${relative(base, p)}:${e.isFile() ? statSync(p).size : 'link'}`];
  });
}

/** `size` bytes of a repeating, position-dependent pattern, produced chunk by chunk (never all in memory). */
function pattern(size: number): { stream: Readable; sha256: string } {
  const chunk = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31 + 7) & 0xff;
  const hash = createHash('sha256');
  let left = size;
  while (left > 0) {
    const n = Math.min(left, chunk.length);
    hash.update(chunk.subarray(0, n));
    left -= n;
  }
  left = size;
  const stream = new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, chunk.length);
      left -= n;
      this.push(Buffer.from(chunk.subarray(0, n)));
    },
  });
  return { stream, sha256: hash.digest('hex') };
}

function peakRssKiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

describe('file transfer service (tedge-agent process, real mosquitto, HTTP only)', () => {
  let t: HttpAgentUnderTest;
  before(async () => {
    t = await HttpAgentUnderTest.start({ TEDGE_HTTP_FILE_TRANSFER_MAX_BYTES: String(200 * 1024 * 1024) });
  });
  after(async () => {
    await t?.stop();
  });

  it('PUT stores under <data.path>/file-transfer (201), GET returns it (200), PUT again overwrites', async () => {
    const put = await t.request('PUT', '/te/v1/files/some/dir/file.txt', { body: 'first content' });
    assert.equal(put.status, 201, put.text());
    assert.equal(readFileSync(join(t.fileRoot, 'some', 'dir', 'file.txt'), 'utf8'), 'first content');
    const get = await t.request('GET', '/te/v1/files/some/dir/file.txt');
    assert.equal(get.status, 200);
    assert.equal(get.text(), 'first content');

    assert.equal((await t.request('PUT', '/te/v1/files/some/dir/file.txt', { body: 'second' })).status, 201);
    assert.equal((await t.request('GET', '/te/v1/files/some/dir/file.txt')).text(), 'second');
    // A trailing slash names the same file, as in thin-edge.
    assert.equal((await t.request('GET', '/te/v1/files/some/dir/file.txt/')).text(), 'second');
    // No temp file left next to it.
    assert.deepEqual(readdirSync(join(t.fileRoot, 'some', 'dir')), ['file.txt']);
  });

  it('DELETE removes a file (202); GET of a missing file is 404; DELETE of a missing file is 202 (as thin-edge)', async () => {
    assert.equal((await t.request('PUT', '/te/v1/files/to-delete', { body: 'x' })).status, 201);
    assert.equal((await t.request('DELETE', '/te/v1/files/to-delete')).status, 202);
    assert.equal(existsSync(join(t.fileRoot, 'to-delete')), false);
    const missing = await t.request('GET', '/te/v1/files/to-delete');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json(), { error: 'File not found: "to-delete"' });
    assert.equal((await t.request('DELETE', '/te/v1/files/to-delete')).status, 202);
    assert.equal((await t.request('DELETE', '/te/v1/files/never/existed')).status, 202);
  });

  it('a directory: PUT onto it is 409, GET and DELETE of it 404', async () => {
    assert.equal((await t.request('PUT', '/te/v1/files/dir/a-file.txt', { body: 'x' })).status, 201);
    assert.equal((await t.request('PUT', '/te/v1/files/dir', { body: 'y' })).status, 409);
    assert.equal((await t.request('GET', '/te/v1/files/dir')).status, 404);
    assert.equal((await t.request('DELETE', '/te/v1/files/dir')).status, 404);
    assert.equal(readFileSync(join(t.fileRoot, 'dir', 'a-file.txt'), 'utf8'), 'x');
  });

  it('streams a 128 MiB upload and download without holding the file in memory', async () => {
    const size = 128 * 1024 * 1024;
    const pid = t.agent.process.pid ?? 0;
    const before = peakRssKiB(pid);
    const { stream, sha256 } = pattern(size);
    const put = await t.request('PUT', '/te/v1/files/big/firmware.bin', { body: stream, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(put.status, 201, put.text());
    assert.equal(statSync(join(t.fileRoot, 'big', 'firmware.bin')).size, size);
    const get = await t.request('GET', '/te/v1/files/big/firmware.bin');
    assert.equal(get.status, 200);
    assert.equal(get.headers['content-length'], String(size));
    assert.equal(createHash('sha256').update(get.body).digest('hex'), sha256);
    const grown = peakRssKiB(pid) - before;
    assert.ok(grown < 48 * 1024, `the agent's peak RSS grew by ${grown} KiB for a ${size / 1024 / 1024} MiB file`);
  });

  it('refuses every traversal form with 404 and writes nothing outside the root', async () => {
    mkdirSync(t.fileRoot, { recursive: true });
    writeFileSync(join(t.dir, 'data', 'secret'), 'do not touch');
    const outside = (): string[] => tree(t.dir).filter((p) => !p.startsWith(join('data', 'file-transfer')) && !p.startsWith('state') && !p.startsWith('logs'));
    const before = outside();
    const attempts = [
      '../secret',
      '../../secret',
      'a/../../secret',
      'a/../../../x',
      '..%2fsecret',
      '..%2Fsecret',
      '%2e%2e/secret',
      '%2E%2E/secret',
      '.%2e/secret',
      '%2e%2e%2fsecret',
      '%2e%2e%2f%2e%2e%2fx',
      '/etc/passwd',
      '/' + join(t.dir, 'data', 'secret').slice(1),
      '%2fetc%2fpasswd',
      '..\\secret',
      '..%5csecret',
      '%5c..%5csecret',
      'a%00b',
      'a//b',
      '%c0%ae%c0%ae/secret',
      './x',
    ];
    for (const path of attempts) {
      for (const method of ['PUT', 'GET', 'DELETE']) {
        const opts = method === 'PUT' ? { body: 'pwned' } : {};
        const r = await t.request(method, `/te/v1/files/${path}`, opts);
        assert.ok(r.status >= 400 && r.status < 500, `${method} ${path} → ${r.status} ${r.text()}`);
        if (r.status !== 404) assert.fail(`${method} ${path} → ${r.status}, expected thin-edge's 404`);
        assert.match(String((r.json() as { error?: string }).error), /Invalid file path/);
      }
    }
    assert.deepEqual(outside(), before);
    assert.equal(readFileSync(join(t.dir, 'data', 'secret'), 'utf8'), 'do not touch');
    assert.equal(tree(t.fileRoot).some((p) => p.includes('secret') || p.includes('passwd')), false);
  });

  it('refuses a symlink that leads out of the root, for reading and for writing', async () => {
    const escape = join(t.dir, 'escape');
    mkdirSync(escape);
    writeFileSync(join(escape, 'private.key'), 'KEY');
    mkdirSync(t.fileRoot, { recursive: true });
    symlinkSync(escape, join(t.fileRoot, 'link-out'));
    symlinkSync(join(escape, 'private.key'), join(t.fileRoot, 'key-link'));
    mkdirSync(join(t.fileRoot, 'real'), { recursive: true });
    symlinkSync(join(t.fileRoot, 'real'), join(t.fileRoot, 'link-in'));

    assert.equal((await t.request('GET', '/te/v1/files/link-out/private.key')).status, 404);
    assert.equal((await t.request('GET', '/te/v1/files/key-link')).status, 404);
    assert.equal((await t.request('PUT', '/te/v1/files/link-out/new.txt', { body: 'pwned' })).status, 404);
    assert.equal((await t.request('PUT', '/te/v1/files/link-out/sub/new.txt', { body: 'pwned' })).status, 404);
    assert.equal((await t.request('PUT', '/te/v1/files/key-link', { body: 'pwned' })).status, 404);
    assert.equal((await t.request('DELETE', '/te/v1/files/link-out/private.key')).status, 404);
    assert.deepEqual(readdirSync(escape), ['private.key']);
    assert.equal(readFileSync(join(escape, 'private.key'), 'utf8'), 'KEY');
    // A link that stays inside the root is followed.
    assert.equal((await t.request('PUT', '/te/v1/files/link-in/ok.txt', { body: 'fine' })).status, 201);
    assert.equal(readFileSync(join(t.fileRoot, 'real', 'ok.txt'), 'utf8'), 'fine');
  });

  it('an upload aborted by the client leaves the previous file and no temp file', async () => {
    assert.equal((await t.request('PUT', '/te/v1/files/aborted/file', { body: 'previous' })).status, 201);
    await new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port: t.httpPort, method: 'PUT', path: '/te/v1/files/aborted/file', headers: { 'content-length': '1000000' } });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(300_000, 7));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 200);
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(readdirSync(join(t.fileRoot, 'aborted')), ['file']);
    assert.equal(readFileSync(join(t.fileRoot, 'aborted', 'file'), 'utf8'), 'previous');
    assert.equal(t.agent.exited, false);
  });

  it('answers unknown paths and methods with a JSON error and keeps serving', async () => {
    const r = await t.request('GET', '/nothing/here');
    assert.equal(r.status, 404);
    assert.deepEqual(r.json(), { error: 'Not Found' });
    const m = await t.request('POST', '/te/v1/files/x', { body: 'y' });
    assert.equal(m.status, 405);
    assert.equal((await t.request('GET', '/te/v1/files/some/dir/file.txt')).status, 200);
  });
});

describe('file transfer size bound (http.file_transfer.max_bytes)', () => {
  let t: HttpAgentUnderTest;
  before(async () => {
    t = await HttpAgentUnderTest.start({ TEDGE_HTTP_FILE_TRANSFER_MAX_BYTES: '1048576' });
  });
  after(async () => {
    await t?.stop();
  });

  it('accepts a file of exactly the bound', async () => {
    assert.equal((await t.request('PUT', '/te/v1/files/exact', { body: Buffer.alloc(1048576, 1) })).status, 201);
  });

  it('refuses a larger declared upload with 413 and keeps the previous file', async () => {
    assert.equal((await t.request('PUT', '/te/v1/files/kept', { body: 'old' })).status, 201);
    const r = await t.request('PUT', '/te/v1/files/kept', { body: Buffer.alloc(1048577, 2) });
    assert.equal(r.status, 413);
    assert.equal(readFileSync(join(t.fileRoot, 'kept'), 'utf8'), 'old');
  });

  it('refuses a chunked upload once it passes the bound, leaving no file and no temp file', async () => {
    const { stream } = pattern(3 * 1024 * 1024);
    const r = await t.request('PUT', '/te/v1/files/chunked/too-big', { body: stream }).catch((err: unknown) => err);
    // The agent answers 413 and closes the connection; the client may see the answer or the reset.
    if (!(r instanceof Error)) assert.equal((r as { status: number }).status, 413);
    assert.deepEqual(tree(join(t.fileRoot, 'chunked')), []);
    assert.equal((await t.request('GET', '/te/v1/files/chunked/too-big')).status, 404);
  });
});
