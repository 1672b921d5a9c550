import type { IncomingMessage } from 'node:http';
import { mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorMessage } from '../../core/errors';
import { durableRename } from './fs-durable';
import { isRedirect, readSnippet, sendRequest, type TlsOptions } from './http-client';
import { TransferError, displayUrl } from './transfer-error';

export interface DownloadOptions {
  /** Aborted: the request is dropped and `<dest>.part` kept, so the next call resumes it. */
  readonly signal: AbortSignal;
  readonly log?: (line: string) => void;
  /** Refuse a body larger than this (announced or streamed); the partial file is removed. */
  readonly maxBytes?: number;
  /** Interruptions (network, 5xx, 429) retried before giving up; each retry resumes with Range. */
  readonly retries?: number;
  readonly retryDelayMs?: number;
  /** A connection with no data for this long counts as an interruption. */
  readonly idleTimeoutMs?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly tls?: TlsOptions;
}

/** What `<dest>.part.meta` holds: which URL the partial file belongs to and how to tell it changed. */
interface PartMeta {
  readonly url: string;
  readonly validator?: string;
}

const MAX_REDIRECTS = 5;

/**
 * Downloads `url` to `dest`: streamed to `<dest>.part`, resumed with a Range request (guarded by If-Range)
 * after an interruption, also one left by an earlier process; fsync'ed then renamed over `dest`, so `dest`
 * is either absent/old or complete. Every failure is one TransferError naming the URL and the HTTP status
 * or network cause.
 */
export async function downloadFile(url: string, dest: string, opts: DownloadOptions): Promise<void> {
  const shown = displayUrl(url);
  const part = `${dest}.part`;
  const metaPath = `${dest}.part.meta`;
  const retries = opts.retries ?? 5;
  const log = opts.log ?? (() => undefined);
  await mkdir(dirname(dest), { recursive: true });
  let meta = await readMeta(metaPath);
  if (meta?.url !== url) {
    await removePartial(part, metaPath);
    meta = undefined;
  }
  let failures = 0;
  for (;;) {
    throwIfAborted(opts.signal, shown);
    const offset = await sizeOf(part);
    const headers: Record<string, string> = { ...opts.headers };
    if (offset > 0) {
      headers['range'] = `bytes=${offset}-`;
      if (meta?.validator) headers['if-range'] = meta.validator;
      log(`resuming download of ${shown} at byte ${offset}`);
    } else {
      log(`downloading ${shown} to ${dest}`);
    }
    let res: IncomingMessage;
    try {
      res = await get(url, headers, opts);
    } catch (e) {
      throwIfAborted(opts.signal, shown);
      if (failures++ < retries) {
        log(`download of ${shown}: ${errorMessage(e)}; retrying`);
        await sleep(retryDelay(opts, failures), opts.signal, shown);
        continue;
      }
      throw new TransferError(`download of ${shown} failed: ${errorMessage(e)}`, { cause: e });
    }
    const plan = await planBody(res, offset);
    if (plan.kind === 'complete') break;
    if (plan.kind === 'restart') {
      log(`download of ${shown}: the server does not resume at byte ${offset}; starting again`);
      await removePartial(part, metaPath);
      meta = undefined;
      continue;
    }
    if (plan.kind === 'status') {
      if ((plan.status >= 500 || plan.status === 429) && failures++ < retries) {
        log(`download of ${shown}: HTTP ${plan.status}; retrying`);
        await sleep(retryDelay(opts, failures), opts.signal, shown);
        continue;
      }
      throw new TransferError(`download of ${shown} failed: ${plan.message}`, { status: plan.status });
    }
    const start = plan.append ? offset : 0;
    if (opts.maxBytes !== undefined && plan.total !== undefined && plan.total > opts.maxBytes) {
      res.destroy();
      await removePartial(part, metaPath);
      throw new TransferError(`download of ${shown} refused: ${plan.total} bytes is over the limit of ${opts.maxBytes}`);
    }
    if (!plan.append) {
      meta = { url, ...(plan.validator ? { validator: plan.validator } : {}) };
      await writeFile(metaPath, JSON.stringify(meta));
    }
    const written = await streamTo(res, part, plan.append, start, opts.maxBytes);
    if (written.kind === 'too-large') {
      await removePartial(part, metaPath);
      throw new TransferError(`download of ${shown} refused: more than the limit of ${opts.maxBytes} bytes`);
    }
    if (written.kind === 'interrupted' || (plan.total !== undefined && written.size < plan.total)) {
      throwIfAborted(opts.signal, shown);
      const why = written.kind === 'interrupted' ? errorMessage(written.error) : 'connection closed early';
      if (failures++ < retries) {
        log(`download of ${shown} interrupted at byte ${written.size}: ${why}; resuming`);
        await sleep(retryDelay(opts, failures), opts.signal, shown);
        continue;
      }
      throw new TransferError(`download of ${shown} failed: interrupted at byte ${written.size}: ${why}`, {
        cause: written.kind === 'interrupted' ? written.error : undefined,
      });
    }
    break;
  }
  await durableRename(part, dest);
  await rm(metaPath, { force: true });
  log(`downloaded ${shown} (${await sizeOf(dest)} bytes)`);
}

type BodyPlan =
  | { readonly kind: 'write'; readonly append: boolean; readonly total: number | undefined; readonly validator?: string }
  | { readonly kind: 'complete' }
  | { readonly kind: 'restart' }
  | { readonly kind: 'status'; readonly status: number; readonly message: string };

/** What to do with a response, given the bytes already in the partial file. */
async function planBody(res: IncomingMessage, offset: number): Promise<BodyPlan> {
  const status = res.statusCode ?? 0;
  if (status === 200) {
    const validator = strongValidator(res);
    return { kind: 'write', append: false, total: contentLength(res), ...(validator ? { validator } : {}) };
  }
  if (status === 206) {
    const range = parseContentRange(res.headers['content-range']);
    if (!range || range.start !== offset) {
      res.destroy();
      return { kind: 'restart' };
    }
    return { kind: 'write', append: true, total: range.total };
  }
  if (status === 416 && offset > 0) {
    // Asked past the end: complete if the server's size is what we hold, otherwise the file changed.
    const range = parseContentRange(res.headers['content-range']);
    res.destroy();
    return range?.total === offset ? { kind: 'complete' } : { kind: 'restart' };
  }
  const snippet = await readSnippet(res);
  return {
    kind: 'status',
    status,
    message: `HTTP ${status} ${res.statusMessage ?? ''}`.trim() + (snippet ? `: ${snippet}` : ''),
  };
}

async function get(url: string, headers: Record<string, string>, opts: DownloadOptions): Promise<IncomingMessage> {
  let target = new URL(url);
  for (let hop = 0; ; hop++) {
    const res = await sendRequest({
      url: target,
      method: 'GET',
      headers,
      signal: opts.signal,
      idleTimeoutMs: opts.idleTimeoutMs ?? 30_000,
      ...(opts.tls ? { tls: opts.tls } : {}),
    });
    const location = res.headers.location;
    if (!isRedirect(res.statusCode ?? 0) || !location) return res;
    res.resume();
    if (hop >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
    target = new URL(location, target);
  }
}

type StreamResult =
  | { readonly kind: 'done'; readonly size: number }
  | { readonly kind: 'interrupted'; readonly size: number; readonly error: unknown }
  | { readonly kind: 'too-large' };

/** Appends (or writes afresh) the body to `part`, fsyncs it, and says how far it got. */
async function streamTo(
  res: IncomingMessage,
  part: string,
  append: boolean,
  start: number,
  maxBytes: number | undefined,
): Promise<StreamResult> {
  const fh = await open(part, append ? 'a' : 'w');
  let size = start;
  try {
    try {
      for await (const chunk of res) {
        const b = chunk as Buffer;
        if (maxBytes !== undefined && size + b.length > maxBytes) {
          res.destroy();
          return { kind: 'too-large' };
        }
        await fh.write(b);
        size += b.length;
      }
    } catch (error) {
      await fh.sync();
      return { kind: 'interrupted', size, error };
    }
    await fh.sync();
    return { kind: 'done', size };
  } finally {
    await fh.close();
  }
}

function contentLength(res: IncomingMessage): number | undefined {
  const v = res.headers['content-length'];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

/** `bytes 100-199/200`, `bytes 100-199/*`, `bytes *\/200`. */
export function parseContentRange(v: string | undefined): { start?: number; total?: number } | undefined {
  if (!v) return undefined;
  const m = /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/.exec(v.trim());
  if (!m) return undefined;
  return {
    ...(m[1] !== undefined ? { start: Number(m[1]) } : {}),
    ...(m[3] !== undefined && m[3] !== '*' ? { total: Number(m[3]) } : {}),
  };
}

/** If-Range only accepts a strong ETag or a Last-Modified date. */
function strongValidator(res: IncomingMessage): string | undefined {
  const etag = res.headers.etag;
  if (etag && !etag.startsWith('W/')) return etag;
  return res.headers['last-modified'];
}

async function readMeta(path: string): Promise<PartMeta | undefined> {
  try {
    const v: unknown = JSON.parse(await readFile(path, 'utf8'));
    if (typeof v === 'object' && v !== null && 'url' in v && typeof v.url === 'string') {
      const validator = 'validator' in v && typeof v.validator === 'string' ? v.validator : undefined;
      return { url: v.url, ...(validator ? { validator } : {}) };
    }
  } catch {
    // Missing or torn: the partial file cannot be trusted.
  }
  return undefined;
}

async function removePartial(part: string, metaPath: string): Promise<void> {
  await rm(part, { force: true });
  await rm(metaPath, { force: true });
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

function retryDelay(opts: DownloadOptions, failures: number): number {
  return Math.min((opts.retryDelayMs ?? 1000) * failures, 30_000);
}

function throwIfAborted(signal: AbortSignal, shown: string): void {
  if (signal.aborted) throw new TransferError(`download of ${shown} interrupted: aborted`, { cause: signal.reason });
}

function sleep(ms: number, signal: AbortSignal, shown: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new TransferError(`download of ${shown} interrupted: aborted`, { cause: signal.reason }));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
