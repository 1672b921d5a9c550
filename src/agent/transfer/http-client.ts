import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';

/*
 * node:http/https rather than a client library: downloads need exact control of Range/If-Range, of the
 * socket's idle timeout and of abort-while-streaming, and the agent's HTTP needs are two verbs on one
 * host; a library would add weight to the single executable for none of that.
 */

export interface TlsOptions {
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

export interface RequestSpec {
  readonly url: URL;
  readonly method: 'GET' | 'PUT';
  readonly headers: Record<string, string>;
  readonly signal: AbortSignal;
  /** A socket with no traffic for this long is an interruption. */
  readonly idleTimeoutMs: number;
  readonly tls?: TlsOptions;
  /** Request body, streamed (PUT). */
  readonly body?: Readable;
}

/**
 * Sends one request and resolves with the response head; the caller consumes the body. Rejects with the
 * raw network error (the caller words it). An abort destroys the request and the response.
 */
export function sendRequest(spec: RequestSpec): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const { url } = spec;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      reject(new Error(`unsupported URL scheme ${url.protocol}`));
      return;
    }
    const options: https.RequestOptions = {
      method: spec.method,
      headers: spec.headers,
      signal: spec.signal,
      timeout: spec.idleTimeoutMs,
      // One connection per transfer: no idle socket outlives it, and a resumed download never reuses the
      // socket that just broke (nor stacks idle-timeout listeners on a kept-alive one).
      agent: false,
      ...(url.protocol === 'https:' && spec.tls ? spec.tls : {}),
    };
    const req = url.protocol === 'https:' ? https.request(url, options) : http.request(url, options);
    req.on('timeout', () => req.destroy(new Error(`no data for ${spec.idleTimeoutMs} ms`)));
    req.on('error', reject);
    req.on('response', (res) => {
      // The same idle bound while the body streams.
      res.socket.setTimeout(spec.idleTimeoutMs, () => res.destroy(new Error(`no data for ${spec.idleTimeoutMs} ms`)));
      resolve(res);
    });
    if (spec.body) {
      spec.body.on('error', (e) => req.destroy(e));
      spec.body.pipe(req);
    } else {
      req.end();
    }
  });
}

/** Reads at most `limit` bytes of a (small, error) body as text, for a reason. */
export async function readSnippet(res: http.IncomingMessage, limit = 200): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res) {
      const b = chunk as Buffer;
      if (size < limit) chunks.push(b);
      size += b.length;
      if (size > 64 * 1024) break;
    }
  } catch {
    // The body is only decoration for the status.
  }
  res.destroy();
  return Buffer.concat(chunks).toString('utf8').slice(0, limit).replace(/\s+/g, ' ').trim();
}

export function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}
