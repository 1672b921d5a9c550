import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { TedgeError } from '../../../core/errors';

/** `proxy.address` / `proxy.username` / `proxy.password` / `proxy.no_proxy`: an HTTP CONNECT proxy for outgoing HTTPS. */
export interface OutgoingProxy {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
}

/** `http://proxy:3128`, `proxy:3128` or `proxy` (port 80). */
export function parseProxyAddress(address: string): { host: string; port: number } {
  const m = /^(?:http:\/\/)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(address.trim());
  if (!m) throw new TedgeError('CONFIG_INVALID_VALUE', `proxy.address must be http://HOST[:PORT], not '${address}'`);
  return { host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port: m[2] === undefined ? 80 : Number(m[2]) };
}

/** Whether `host` is reached directly: `*`, the host itself, or a domain it is in (`example.com`, `.example.com`). */
export function bypassesProxy(host: string, noProxy: readonly string[]): boolean {
  const h = host.toLowerCase();
  return noProxy.some((entry) => {
    const e = entry.trim().toLowerCase().replace(/^\*?\./, '');
    return e === '*' || h === e || h.endsWith(`.${e}`);
  });
}

/** The CONNECT request's head: the tunnel's target and, with a user, Proxy-Authorization. Pure. */
export function connectHeaders(proxy: OutgoingProxy, target: string): Record<string, string> {
  const headers: Record<string, string> = { host: target };
  if (proxy.username !== undefined) headers['proxy-authorization'] = `Basic ${Buffer.from(`${proxy.username}:${proxy.password ?? ''}`).toString('base64')}`;
  return headers;
}

/**
 * An HTTPS agent whose connections go through an HTTP CONNECT tunnel; TLS (server check, client
 * certificate) is end to end with the target, the proxy sees only the host and port.
 */
export class TunnelingAgent extends https.Agent {
  constructor(
    private readonly proxy: OutgoingProxy,
    options: https.AgentOptions,
  ) {
    super(options);
  }

  // Node's Agent accepts the asynchronous (callback) form of createConnection.
  override createConnection(options: tls.ConnectionOptions & { host?: string; port?: number }, callback: (err: Error | null, socket?: Duplex) => void): Duplex | undefined {
    const target = `${options.host ?? 'localhost'}:${options.port ?? 443}`;
    const req = http.request({ host: this.proxy.host, port: this.proxy.port, method: 'CONNECT', path: target, headers: connectHeaders(this.proxy, target), agent: false });
    req.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        callback(new Error(`the HTTP proxy ${this.proxy.host}:${this.proxy.port} refused the tunnel to ${target}: HTTP ${res.statusCode ?? 0}`));
        return;
      }
      const host = options.host ?? '';
      // SNI carries names only, never an IP address.
      const secure = tls.connect({ ...options, socket, ...(isIP(host) === 0 ? { servername: options.servername ?? host } : {}) });
      const failed = (e: Error): void => callback(e);
      secure.once('error', failed);
      secure.once('secureConnect', () => {
        secure.off('error', failed);
        callback(null, secure);
      });
    });
    req.once('error', (e) => callback(new Error(`the HTTP proxy ${this.proxy.host}:${this.proxy.port} cannot be reached: ${e.message}`)));
    req.end();
    return undefined;
  }
}
