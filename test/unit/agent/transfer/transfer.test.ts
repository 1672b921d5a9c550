import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import { downloadFile, parseContentRange } from '../../../../src/agent/transfer/download';
import { isTransferError } from '../../../../src/agent/transfer/transfer-error';
import { uploadFile } from '../../../../src/agent/transfer/upload';

const BODY = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251));

interface Seen {
  method: string;
  url: string;
  range?: string;
  ifRange?: string;
  body?: Buffer;
}

/**
 * A file server with Range support and scripted misbehaviour: `/cut/<n>` sends the first n bytes of the
 * first request then drops the connection; `/status/<code>`; `/redirect` → `/file`; `/changed` answers
 * Range requests with a fresh 200 (If-Range mismatch); PUT stores the body.
 */
function startServer(seen: Seen[]): Promise<{ server: Server; base: string }> {
  let cutDone = false;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = { method: req.method ?? '', url: req.url ?? '' };
      if (req.headers.range) s.range = req.headers.range;
      if (typeof req.headers['if-range'] === 'string') s.ifRange = req.headers['if-range'];
      if (req.method === 'PUT') s.body = Buffer.concat(chunks);
      seen.push(s);
      const url = req.url ?? '';
      if (req.method === 'PUT') {
        res.writeHead(url.startsWith('/status/') ? Number(url.slice(8)) : 201).end();
        return;
      }
      if (url.startsWith('/status/')) {
        res.writeHead(Number(url.slice(8)), { 'content-type': 'text/plain' }).end('nope');
        return;
      }
      if (url === '/redirect') {
        res.writeHead(302, { location: '/file' }).end();
        return;
      }
      const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      if (url.startsWith('/cut/') && !cutDone) {
        cutDone = true;
        const n = Number(url.slice(5));
        res.writeHead(200, { 'content-length': String(BODY.length), etag: '"v1"' });
        res.write(BODY.subarray(0, n), () => res.destroy());
        return;
      }
      if (m && url !== '/changed') {
        const start = Number(m[1]);
        if (start >= BODY.length) {
          res.writeHead(416, { 'content-range': `bytes */${BODY.length}` }).end();
          return;
        }
        res.writeHead(206, {
          'content-range': `bytes ${start}-${BODY.length - 1}/${BODY.length}`,
          'content-length': String(BODY.length - start),
        });
        res.end(BODY.subarray(start));
        return;
      }
      res.writeHead(200, { 'content-length': String(BODY.length), etag: '"v1"' }).end(BODY);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })),
  );
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('downloadFile / uploadFile', () => {
  let server: Server;
  let base: string;
  let dir: string;
  let seen: Seen[];
  const signal = new AbortController().signal;
  const fast = { signal, retryDelayMs: 1 };

  before(async () => {
    seen = [];
    ({ server, base } = await startServer(seen));
  });
  after(() => server.close());
  beforeEach(() => {
    seen.length = 0;
    dir = mkdtempSync(join(tmpdir(), 'tedge-transfer-'));
  });

  it('downloads a file and leaves no partial files', async () => {
    const dest = join(dir, 'sub', 'f.bin');
    await downloadFile(`${base}/file`, dest, fast);
    assert.equal(sha(readFileSync(dest)), sha(BODY));
    assert.ok(!existsSync(`${dest}.part`) && !existsSync(`${dest}.part.meta`));
    rmSync(dir, { recursive: true });
  });

  it('resumes with a Range request guarded by If-Range after the connection drops', async () => {
    const dest = join(dir, 'f.bin');
    const lines: string[] = [];
    await downloadFile(`${base}/cut/65536`, dest, { ...fast, log: (l) => lines.push(l) });
    assert.equal(sha(readFileSync(dest)), sha(BODY));
    assert.equal(seen.length, 2);
    assert.match(seen[1]?.range ?? '', /^bytes=\d+-$/);
    assert.ok(Number(/\d+/.exec(seen[1]?.range ?? '')?.[0]) > 0);
    assert.equal(seen[1]?.ifRange, '"v1"');
    assert.ok(lines.some((l) => l.includes('resuming')));
  });

  it('resumes a partial file left by an earlier process for the same URL', async () => {
    const dest = join(dir, 'f.bin');
    writeFileSync(`${dest}.part`, BODY.subarray(0, 1000));
    writeFileSync(`${dest}.part.meta`, JSON.stringify({ url: `${base}/file`, validator: '"v1"' }));
    await downloadFile(`${base}/file`, dest, fast);
    assert.equal(sha(readFileSync(dest)), sha(BODY));
    assert.equal(seen[0]?.range, 'bytes=1000-');
  });

  it('finishes a partial file that is already complete (416 with the same size)', async () => {
    const dest = join(dir, 'f.bin');
    writeFileSync(`${dest}.part`, BODY);
    writeFileSync(`${dest}.part.meta`, JSON.stringify({ url: `${base}/file` }));
    await downloadFile(`${base}/file`, dest, fast);
    assert.equal(sha(readFileSync(dest)), sha(BODY));
  });

  it('discards a partial file of another URL, and starts again when the server ignores Range', async () => {
    const dest = join(dir, 'f.bin');
    writeFileSync(`${dest}.part`, Buffer.from('garbage'));
    writeFileSync(`${dest}.part.meta`, JSON.stringify({ url: `${base}/other` }));
    await downloadFile(`${base}/changed`, dest, fast);
    assert.equal(seen[0]?.range, undefined);
    assert.equal(sha(readFileSync(dest)), sha(BODY));
    writeFileSync(`${dest}.part`, Buffer.from('garbage'));
    writeFileSync(`${dest}.part.meta`, JSON.stringify({ url: `${base}/changed` }));
    await downloadFile(`${base}/changed`, dest, fast);
    assert.equal(sha(readFileSync(dest)), sha(BODY));
  });

  it('follows redirects', async () => {
    const dest = join(dir, 'f.bin');
    await downloadFile(`${base}/redirect`, dest, fast);
    assert.equal(readFileSync(dest).length, BODY.length);
  });

  it('fails with one error naming the URL and the status; no retry on 4xx, retries on 5xx', async () => {
    const dest = join(dir, 'f.bin');
    await assert.rejects(downloadFile(`${base}/status/404`, dest, fast), (e: unknown) => {
      assert.ok(isTransferError(e));
      assert.equal(e.status, 404);
      assert.match(e.message, /download of http:\/\/127\.0\.0\.1:\d+\/status\/404 failed: HTTP 404 Not Found: nope/);
      return true;
    });
    assert.equal(seen.length, 1);
    seen.length = 0;
    await assert.rejects(downloadFile(`${base}/status/503`, dest, { ...fast, retries: 2 }), /HTTP 503/);
    assert.equal(seen.length, 3);
    assert.ok(!existsSync(dest));
  });

  it('fails with the network cause when nothing listens', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise((r) => dead.close(r));
    await assert.rejects(downloadFile(`http://127.0.0.1:${port}/x`, join(dir, 'f'), { ...fast, retries: 1 }), /failed: .*ECONNREFUSED/);
  });

  it('refuses a body over maxBytes and removes the partial file', async () => {
    const dest = join(dir, 'f.bin');
    await assert.rejects(downloadFile(`${base}/file`, dest, { ...fast, maxBytes: 1000 }), /refused: 200000 bytes is over the limit of 1000/);
    assert.ok(!existsSync(`${dest}.part`) && !existsSync(dest));
  });

  it('stops when aborted and keeps nothing at dest', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(downloadFile(`${base}/file`, join(dir, 'f'), { signal: ac.signal }), /interrupted: aborted/);
  });

  it('uploads a file with its length, and a stream chunked', async () => {
    const path = join(dir, 'up.bin');
    writeFileSync(path, BODY);
    await uploadFile(`${base}/up/file`, path, { signal });
    assert.equal(sha(seen[0]?.body ?? Buffer.alloc(0)), sha(BODY));
    await uploadFile(`${base}/up/stream`, Readable.from([Buffer.from('a'), Buffer.from('bc')]), { signal });
    assert.equal(seen[1]?.body?.toString(), 'abc');
  });

  it('an upload answered with an error status fails naming the status', async () => {
    const path = join(dir, 'up.bin');
    writeFileSync(path, 'x');
    await assert.rejects(uploadFile(`${base}/status/413`, path, { signal }), /upload to .*status\/413 failed: HTTP 413/);
    await assert.rejects(uploadFile(`${base}/x`, join(dir, 'missing'), { signal }), /cannot read/);
  });

  it('parses Content-Range', () => {
    const table: [string | undefined, ReturnType<typeof parseContentRange>][] = [
      ['bytes 100-199/200', { start: 100, total: 200 }],
      ['bytes 100-199/*', { start: 100 }],
      ['bytes */200', { total: 200 }],
      ['items 1-2/3', undefined],
      [undefined, undefined],
    ];
    for (const [v, want] of table) assert.deepEqual(parseContentRange(v), want, String(v));
  });
});
