import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import { errorMessage, TedgeError } from '../../../core/errors';
import type { Logger } from '../../../log/logger';
import type { C8yHttpClient } from './c8y-client';
import { readCaBundle } from './tls';

export interface ProxyOptions {
  readonly address: string;
  readonly port: number;
  /** c8y.proxy.cert_path/key_path: HTTPS; with c8y.proxy.ca_path, clients must present a certificate. */
  readonly certPath?: string;
  readonly keyPath?: string;
  readonly caPath?: string;
}

/** Bodies up to this size are buffered so that a 401 can be retried with a fresh token (thin-edge too). */
const SMALL_BODY = 1024 * 1024;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

/** What the proxy does with a request path: forward `/c8y/<path>`, refuse UI parts, or not found. */
export type ProxyRoute = { readonly kind: 'forward'; readonly path: string } | { readonly kind: 'forbidden' } | { readonly kind: 'not-found' };

export function proxyRoute(url: string): ProxyRoute {
  if (url !== '/c8y' && !url.startsWith('/c8y/') && !url.startsWith('/c8y?')) return { kind: 'not-found' };
  const rest = url.slice('/c8y'.length);
  const path = rest.startsWith('/') ? rest : `/${rest}`;
  const pathname = path.split('?')[0] ?? '';
  // Cumulocity revokes the device token when it touches the web UI (thin-edge refuses these too).
  if (pathname.endsWith('.js') || pathname.startsWith('/apps/')) return { kind: 'forbidden' };
  return { kind: 'forward', path };
}

/**
 * The local Cumulocity proxy, `http://<c8y.proxy.bind.address>:<port>/c8y/<path>` → `https://<c8y.http>/<path>`
 * with the device's credentials added (a client's own Authorization header is passed through). Bodies are
 * streamed both ways; an unreachable tenant is a 502 with the cause.
 */
export class C8yProxyServer {
  private server: http.Server | https.Server | undefined;

  constructor(
    private readonly opts: ProxyOptions,
    private readonly client: C8yHttpClient,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => void this.handle(req, res);
    const { certPath, keyPath, caPath } = this.opts;
    if ((certPath === undefined) !== (keyPath === undefined)) throw new TedgeError('CONFIG_INVALID_VALUE', 'c8y.proxy.cert_path and c8y.proxy.key_path must be set together');
    const server =
      certPath !== undefined && keyPath !== undefined
        ? https.createServer(
            {
              cert: readFileSync(certPath),
              key: readFileSync(keyPath),
              ...(caPath !== undefined ? { ca: readCaBundle(caPath, 'c8y.proxy.ca_path'), requestCert: true, rejectUnauthorized: true } : {}),
            },
            handler,
          )
        : http.createServer(handler);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new TedgeError('IO', `the Cumulocity proxy cannot listen on ${this.opts.address}:${this.opts.port}: ${errorMessage(e)}`, { cause: e })));
      server.listen(this.opts.port, this.opts.address, () => resolve());
    });
    this.logger.info({ address: this.opts.address, port: this.opts.port, tls: certPath !== undefined }, 'Cumulocity proxy listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const route = proxyRoute(req.url ?? '/');
    if (route.kind !== 'forward') {
      reply(res, route.kind === 'forbidden' ? 403 : 404, route.kind === 'forbidden' ? 'the device does not access the Cumulocity web UI' : 'only /c8y/<path> is served');
      return;
    }
    const method = req.method ?? 'GET';
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    try {
      const body = await requestBody(req, headers);
      const upstream = await this.client.request({ method, path: route.path, headers, ...(body !== undefined ? { body } : {}), signal: abort.signal });
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(upstream.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
      res.writeHead(upstream.statusCode ?? 502, out);
      upstream.on('error', () => res.destroy());
      upstream.pipe(res);
    } catch (e) {
      if (abort.signal.aborted) return;
      this.logger.warn({ method, path: route.path.split('?')[0], error: errorMessage(e) }, 'proxied request failed');
      reply(res, 502, errorMessage(e));
    }
  }
}

/** No body, a small body read whole (replayable), or the request itself streamed through. */
async function requestBody(req: http.IncomingMessage, headers: Record<string, string | string[]>): Promise<Buffer | Readable | undefined> {
  const length = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (!chunked && (length === undefined || length === '0')) return undefined;
  if (!chunked && Number(length) <= SMALL_BODY) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }
  if (chunked) headers['transfer-encoding'] = 'chunked';
  return req;
}

function reply(res: http.ServerResponse, status: number, error: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error }));
}
