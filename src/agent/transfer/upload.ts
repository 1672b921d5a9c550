import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { errorMessage } from '../../core/errors';
import { readSnippet, sendRequest, type TlsOptions } from './http-client';
import { TransferError, displayUrl } from './transfer-error';

export interface UploadOptions {
  readonly signal: AbortSignal;
  readonly log?: (line: string) => void;
  /** Default `application/octet-stream`. */
  readonly contentType?: string;
  readonly idleTimeoutMs?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly tls?: TlsOptions;
}

/**
 * HTTP PUT of a file (sent with its Content-Length) or of a stream (chunked), never held in memory.
 * Any 2xx is success; anything else is one TransferError naming the URL and the status or network cause.
 * Not retried: a stream cannot be replayed, and the callers' commands are cheap to re-issue.
 */
export async function uploadFile(url: string, source: string | Readable, opts: UploadOptions): Promise<void> {
  const shown = displayUrl(url);
  const headers: Record<string, string> = {
    'content-type': opts.contentType ?? 'application/octet-stream',
    ...opts.headers,
  };
  let body: Readable;
  if (typeof source === 'string') {
    let size: number;
    try {
      size = (await stat(source)).size;
    } catch (e) {
      throw new TransferError(`upload to ${shown} failed: cannot read ${source}: ${errorMessage(e)}`, { cause: e });
    }
    headers['content-length'] = String(size);
    body = createReadStream(source);
    opts.log?.(`uploading ${source} (${size} bytes) to ${shown}`);
  } else {
    body = source;
    opts.log?.(`uploading to ${shown}`);
  }
  let target: URL;
  try {
    target = new URL(url);
  } catch (e) {
    body.destroy();
    throw new TransferError(`upload failed: invalid URL ${JSON.stringify(url)}`, { cause: e });
  }
  try {
    const res = await sendRequest({
      url: target,
      method: 'PUT',
      headers,
      signal: opts.signal,
      idleTimeoutMs: opts.idleTimeoutMs ?? 30_000,
      body,
      ...(opts.tls ? { tls: opts.tls } : {}),
    });
    const status = res.statusCode ?? 0;
    const snippet = await readSnippet(res);
    if (status < 200 || status > 299) {
      const message = `HTTP ${status} ${res.statusMessage ?? ''}`.trim() + (snippet ? `: ${snippet}` : '');
      throw new TransferError(`upload to ${shown} failed: ${message}`, { status });
    }
    opts.log?.(`uploaded to ${shown}: HTTP ${status}`);
  } catch (e) {
    body.destroy();
    if (e instanceof TransferError) throw e;
    const why = opts.signal.aborted ? 'aborted' : errorMessage(e);
    throw new TransferError(`upload to ${shown} failed: ${why}`, { cause: e });
  }
}
