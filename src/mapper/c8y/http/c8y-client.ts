import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import { TedgeError, errorMessage } from '../../../core/errors';
import type { C8yAuth } from './auth';
import { type OutgoingProxy, TunnelingAgent } from './connect-proxy';
import { retryDelayMs, shouldRetry } from './retry';

export interface C8yRequest {
  readonly method: string;
  /** Path and query on the tenant, starting with `/`. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string | string[]>>;
  /** A Buffer can be sent again (401 refresh, retries); a stream is sent once. */
  readonly body?: Buffer | Readable;
  readonly signal?: AbortSignal;
}

export interface C8yClientOptions {
  /** `https://<c8y.http>`, or a base with a path such as `http://127.0.0.1:8001/c8y`; no trailing slash. */
  readonly baseUrl: string;
  readonly auth: C8yAuth;
  /** Trusted roots (c8y.root_cert_path); Node's defaults when undefined. */
  readonly ca?: string;
  /** A client certificate, for a local HTTPS server asking for one (the CLI to the proxy). */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Check the token with a HEAD before a streamed body (default true; pointless without own credentials). */
  readonly precheck?: boolean;
  /** An HTTP CONNECT proxy (proxy.address) for HTTPS to the tenant. */
  readonly proxy?: OutgoingProxy;
  readonly maxTries?: number;
  readonly idleTimeoutMs?: number;
}

/** An answer of Cumulocity that is not 2xx, with the status; the message names method and path only. */
export class C8yHttpError extends TedgeError {
  constructor(
    message: string,
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super('IO', message, options);
    this.name = 'C8yHttpError';
  }
}

/**
 * HTTP to the Cumulocity tenant with the device's credentials: the Authorization header is added (unless the
 * caller brings one), a 401 gets a fresh token and one more try when the body can be replayed (a streamed
 * body is preceded by a cheap authenticated HEAD instead, as thin-edge's proxy does), idempotent requests are
 * retried on network and gateway errors. Bodies are streamed both ways; the credentials never appear in errors.
 */
export class C8yHttpClient {
  private readonly agent: https.Agent | http.Agent;

  constructor(private readonly opts: C8yClientOptions) {
    const isHttps = opts.baseUrl.startsWith('https:');
    const tls = { ...(opts.ca !== undefined ? { ca: opts.ca } : {}), ...(opts.cert !== undefined ? { cert: opts.cert } : {}), ...(opts.key !== undefined ? { key: opts.key } : {}) };
    if (!isHttps) this.agent = new http.Agent({ keepAlive: true });
    else this.agent = opts.proxy ? new TunnelingAgent(opts.proxy, { keepAlive: true, ...tls }) : new https.Agent({ keepAlive: true, ...tls });
  }

  get baseUrl(): string {
    return this.opts.baseUrl;
  }

  /** Resolves with the response head (the caller consumes or destroys the body). */
  async request(req: C8yRequest): Promise<http.IncomingMessage> {
    const own = hasHeader(req.headers, 'authorization');
    const replayable = req.body === undefined || Buffer.isBuffer(req.body);
    let auth = own ? '' : await this.opts.auth.header();
    if (!own && !replayable && this.opts.precheck !== false) auth = await this.checkedHeader(auth, req.signal);
    const maxTries = this.opts.maxTries ?? 3;
    let refreshed = false;
    for (let tries = 1; ; tries++) {
      let res: http.IncomingMessage;
      try {
        res = await this.send(req, own ? undefined : auth);
      } catch (e) {
        if (req.signal?.aborted || !shouldRetry(req.method, replayable, { kind: 'network' }, tries, maxTries)) {
          throw new C8yHttpError(`${req.method} ${req.path} on Cumulocity failed: ${errorMessage(e)}`, undefined, { cause: e });
        }
        await sleep(retryDelayMs(tries));
        continue;
      }
      const status = res.statusCode ?? 0;
      if (status === 401 && !own && replayable && !refreshed) {
        res.resume();
        refreshed = true;
        auth = await this.opts.auth.refresh(auth);
        continue;
      }
      if (shouldRetry(req.method, replayable, { kind: 'status', status }, tries, maxTries)) {
        res.resume();
        await sleep(retryDelayMs(tries));
        continue;
      }
      return res;
    }
  }

  /** A JSON request; the parsed answer of a 2xx, else C8yHttpError with the status and the start of the body. */
  async json(method: string, path: string, value?: unknown, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const body = value === undefined ? undefined : Buffer.from(JSON.stringify(value));
    const res = await this.request({
      method,
      path,
      headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body } : {}),
      ...(signal ? { signal } : {}),
    });
    return readJson(res, `${method} ${path}`);
  }

  close(): void {
    this.agent.destroy();
  }

  /** Before a body that cannot be sent twice: make sure the token is still good. */
  private async checkedHeader(auth: string, signal: AbortSignal | undefined): Promise<string> {
    try {
      const res = await this.send({ method: 'HEAD', path: '/tenant/currentTenant', ...(signal ? { signal } : {}) }, auth);
      res.resume();
      return res.statusCode === 401 ? await this.opts.auth.refresh(auth) : auth;
    } catch {
      return auth; // the real request will say what is wrong
    }
  }

  private send(req: C8yRequest, auth: string | undefined): Promise<http.IncomingMessage> {
    // Appended, not resolved: a base may have a path (the local proxy's `/c8y`).
    const url = new URL(`${this.opts.baseUrl}${req.path}`);
    const headers: Record<string, string | string[]> = { ...req.headers };
    if (auth !== undefined && auth !== '') headers['authorization'] = auth;
    if (Buffer.isBuffer(req.body)) headers['content-length'] = String(req.body.length);
    const options: http.RequestOptions = { method: req.method, headers, agent: this.agent, timeout: this.opts.idleTimeoutMs ?? 60_000, ...(req.signal ? { signal: req.signal } : {}) };
    return new Promise((resolve, reject) => {
      const r = url.protocol === 'https:' ? https.request(url, options) : http.request(url, options);
      r.on('timeout', () => r.destroy(new Error(`no data for ${options.timeout} ms`)));
      r.on('error', reject);
      r.on('response', resolve);
      const body = req.body;
      if (body === undefined) r.end();
      else if (Buffer.isBuffer(body)) r.end(body);
      else {
        body.on('error', (e) => r.destroy(e));
        body.pipe(r);
      }
    });
  }
}

export async function readJson(res: http.IncomingMessage, what: string): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const status = res.statusCode ?? 0;
  if (status < 200 || status > 299) {
    const snippet = text.slice(0, 200).replace(/\s+/g, ' ').trim();
    throw new C8yHttpError(`${what} on Cumulocity failed: HTTP ${status}${snippet ? `: ${snippet}` : ''}`, status);
  }
  if (text.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch (e) {
    throw new C8yHttpError(`${what} on Cumulocity: the answer is not JSON`, status, { cause: e });
  }
}

function hasHeader(headers: C8yRequest['headers'], name: string): boolean {
  return headers !== undefined && Object.keys(headers).some((k) => k.toLowerCase() === name);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

