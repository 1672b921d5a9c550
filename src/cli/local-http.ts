import type { TedgeConfig } from '../config/tedge-config';
import { TedgeError } from '../core/errors';
import { clientTls, fileTransferScheme } from '../agent/transfer/client-tls';
import { C8yHttpClient, NoAuth } from '../mapper/c8y/http';

/**
 * A client of the device's local HTTP servers, as `tedge http` reaches them: `/c8y/...` the mapper's
 * Cumulocity proxy (which adds the credentials), `/te/...` the agent (file transfer, entities). TLS as the
 * agent's client: roots plus http.ca_path, http.client.auth.cert_file/key_file presented.
 */
export function localHttpClient(config: TedgeConfig, uri: string): C8yHttpClient {
  let base: string;
  if (uri === '/c8y' || uri.startsWith('/c8y/')) {
    base = proxyOrigin(config);
  } else if (uri === '/te' || uri.startsWith('/te/')) {
    base = `${fileTransferScheme(config)}://${config.string('http.client.host')}:${config.number('http.client.port')}`;
  } else {
    throw new TedgeError('USAGE', `not a local HTTP URI: ${uri} (expected /c8y/... or /te/...)`);
  }
  return client(config, base);
}

/** The tenant as the local proxy serves it: paths are Cumulocity's (`/event/events`). */
export function c8yProxyClient(config: TedgeConfig): C8yHttpClient {
  return client(config, `${proxyOrigin(config)}/c8y`);
}

function proxyOrigin(config: TedgeConfig): string {
  const scheme = config.text('c8y.proxy.cert_path') !== undefined ? 'https' : 'http';
  return `${scheme}://${config.string('c8y.proxy.client.host')}:${config.number('c8y.proxy.client.port')}`;
}

function client(config: TedgeConfig, base: string): C8yHttpClient {
  const tls = clientTls(config);
  return new C8yHttpClient({
    baseUrl: base,
    auth: new NoAuth(),
    precheck: false,
    maxTries: 1,
    ...(tls?.ca !== undefined ? { ca: String(tls.ca) } : {}),
    ...(tls?.cert !== undefined ? { cert: tls.cert } : {}),
    ...(tls?.key !== undefined ? { key: tls.key } : {}),
  });
}
