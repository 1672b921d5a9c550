import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { type FileHandle, mkdir, open, rename, rm, stat, unlink } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, dirname, join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../../log/logger';
import { HttpError, declaredLength, sendEmpty, sendError, tooLarge } from './http-io';
import { confinedPath, parseTransferPath } from './file-path';

export interface FileTransferOptions {
  /** `<data.path>/file-transfer` */
  readonly root: string;
  /** http.file_transfer.max_bytes */
  readonly maxBytes: number;
}

/** Counts bytes as they stream through and fails the pipeline once the bound is passed. */
class SizeLimit extends Transform {
  private seen = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) done(tooLarge(this.limit));
    else done(null, chunk);
  }
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/**
 * `PUT|GET|DELETE /te/v1/files/<path>` stored under `<data.path>/file-transfer/<path>` (§4.1).
 * Status codes as thin-edge: PUT 201, GET 200, DELETE 202 (also when the file is absent), a path it
 * refuses or a missing file 404, PUT onto a directory 409. Uploads stream to a temp file next to the
 * target, are fsynced, then renamed over it: a reader sees the old file or the new one, never half.
 */
export class FileTransfer {
  constructor(
    private readonly opts: FileTransferOptions,
    private readonly logger: Logger,
  ) {}

  /** Refuses a declared-too-large upload before the client sends it (answer to `Expect: 100-continue`). */
  refusesUpfront(req: IncomingMessage): boolean {
    const n = declaredLength(req);
    return n !== undefined && n > this.opts.maxBytes;
  }

  async handle(req: IncomingMessage, res: ServerResponse, rawPath: string): Promise<void> {
    const parsed = parseTransferPath(rawPath);
    if (!parsed.ok) return sendError(res, 404, parsed.reason);
    await mkdir(this.opts.root, { recursive: true });
    const path = await confinedPath(this.opts.root, parsed.segments);
    const shown = parsed.segments.join('/');
    if (path === undefined) return sendError(res, 404, `Invalid file path: "${shown}": a symlink leads out of the file transfer directory`);
    switch (req.method) {
      case 'PUT':
        return this.upload(req, res, path, parsed.segments, shown);
      case 'GET':
      case 'HEAD':
        return this.download(req, res, path, shown);
      case 'DELETE':
        return this.remove(res, path, shown);
      default:
        res.setHeader('allow', 'GET, HEAD, PUT, DELETE');
        return sendError(res, 405, 'Method Not Allowed');
    }
  }

  private async upload(req: IncomingMessage, res: ServerResponse, path: string, segments: readonly string[], shown: string): Promise<void> {
    if (this.refusesUpfront(req)) throw tooLarge(this.opts.maxBytes);
    const dir = dirname(path);
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      // A file where a directory of the path should be.
      if (errno(err) === 'EEXIST' || errno(err) === 'ENOTDIR') throw new HttpError(409, `Cannot upload: "${shown}": a parent of it is a file, not a directory`);
      throw err;
    }
    // mkdir may have created directories: check again that none of them is a symlink planted meanwhile.
    if ((await confinedPath(this.opts.root, segments)) === undefined) throw new HttpError(404, `Invalid file path: "${shown}"`);
    const existing = await stat(path).catch(() => undefined);
    if (existing?.isDirectory()) throw new HttpError(409, `Cannot upload: "${shown}" is a directory, not a file`);

    const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.upload`);
    try {
      // `wx`: never reuse or follow an existing name; `flush`: fsync before the stream closes.
      await pipeline(req, new SizeLimit(this.opts.maxBytes), createWriteStream(tmp, { flags: 'wx', mode: 0o644, flush: true }));
      await rename(tmp, path);
      await syncDir(dir);
    } catch (err) {
      await rm(tmp, { force: true });
      if (err instanceof HttpError) throw err;
      // The client went away mid-upload: nothing to answer, nothing kept.
      if (req.destroyed || errno(err) === 'ERR_STREAM_PREMATURE_CLOSE' || errno(err) === 'ECONNRESET') {
        this.logger.warn({ path: shown }, 'upload aborted by the client; nothing stored');
        return;
      }
      throw err;
    }
    this.logger.info({ path: shown }, 'file uploaded');
    sendEmpty(res, 201);
  }

  private async download(req: IncomingMessage, res: ServerResponse, path: string, shown: string): Promise<void> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR' || errno(err) === 'EISDIR') return sendError(res, 404, `File not found: "${shown}"`);
      throw err;
    }
    let info;
    try {
      info = await handle.stat();
    } catch (err) {
      await handle.close();
      throw err;
    }
    if (!info.isFile() || req.method === 'HEAD') await handle.close();
    if (!info.isFile()) return sendError(res, 404, `File not found: "${shown}"`);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': info.size });
    if (req.method === 'HEAD') return void res.end();
    // The stream closes the handle when done or failed.
    await pipeline(handle.createReadStream(), res);
  }

  private async remove(res: ServerResponse, path: string, shown: string): Promise<void> {
    try {
      await unlink(path);
    } catch (err) {
      const code = errno(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return sendEmpty(res, 202);
      if (code === 'EISDIR' || code === 'EPERM') {
        const info = await stat(path).catch(() => undefined);
        if (info?.isDirectory()) return sendError(res, 404, `Cannot delete: "${shown}" is a directory, not a file`);
      }
      throw err;
    }
    this.logger.info({ path: shown }, 'file deleted');
    sendEmpty(res, 202);
  }
}

/** Makes the rename durable: the directory entry is on disk once this returns. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
