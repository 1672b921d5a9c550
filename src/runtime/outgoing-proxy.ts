import * as http from 'node:http';
import type { Socket } from 'node:net';
import type { TedgeConfig } from '../config/tedge-config';
import { TedgeError } from '../core/errors';

/** `proxy.address` / `proxy.username` / `proxy.password` / `proxy.no_proxy`: an HTTP CONNECT proxy for connections to the cloud. */
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

/** The CONNECT proxy for a connection to `host`: `proxy.address` unless `proxy.no_proxy` names the host. */
export function outgoingProxy(config: TedgeConfig, host: string): OutgoingProxy | undefined {
  const address = config.text('proxy.address');
  if (address === undefined || bypassesProxy(host, config.list('proxy.no_proxy'))) return undefined;
  const username = config.text('proxy.username');
  const password = config.text('proxy.password');
  return { ...parseProxyAddress(address), ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password } : {}) };
}

/** The CONNECT request's head: the tunnel's target and, with a user, Proxy-Authorization. Pure. */
export function connectHeaders(proxy: OutgoingProxy, target: string): Record<string, string> {
  const headers: Record<string, string> = { host: target };
  if (proxy.username !== undefined) headers['proxy-authorization'] = `Basic ${Buffer.from(`${proxy.username}:${proxy.password ?? ''}`).toString('base64')}`;
  return headers;
}

const TUNNEL_TIMEOUT_MS = 30_000;

/**
 * A TCP tunnel to `host:port` through the proxy (HTTP CONNECT): the socket, on which the caller starts
 * TLS with the target itself, so the proxy sees only the host and port.
 */
export function openTunnel(proxy: OutgoingProxy, host: string, port: number, signal?: AbortSignal): Promise<Socket> {
  const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: proxy.host, port: proxy.port, method: 'CONNECT', path: target, headers: connectHeaders(proxy, target), agent: false, ...(signal ? { signal } : {}) });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${TUNNEL_TIMEOUT_MS / 1000} s`)), TUNNEL_TIMEOUT_MS);
    req.once('close', () => clearTimeout(timer));
    req.once('connect', (res, socket) => {
      clearTimeout(timer);
      if (res.statusCode === 200) return resolve(socket);
      socket.destroy();
      reject(new Error(`the HTTP proxy ${proxy.host}:${proxy.port} refused the tunnel to ${target}: HTTP ${res.statusCode ?? 0}`));
    });
    req.once('error', (e) => reject(new Error(`the HTTP proxy ${proxy.host}:${proxy.port} cannot be reached: ${e.message}`)));
    req.end();
  });
}
