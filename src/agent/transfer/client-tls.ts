import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import type { TlsOptions } from './http-client';

/** The config the agent's HTTP client reads (a subset of HandlerContext.config). */
export interface ClientTlsConfig {
  text(key: string): string | undefined;
}

/**
 * TLS of the agent's transfers, as thin-edge's HTTP client: trusted roots are the public ones plus those
 * of http.ca_path (a PEM file or a directory of them; it is what signs the local file transfer service's
 * certificate), and http.client.auth.cert_file/key_file are presented when a server asks. Undefined when
 * nothing is configured (Node's defaults apply).
 */
export function clientTls(config: ClientTlsConfig): TlsOptions | undefined {
  const caPath = config.text('http.ca_path');
  const certFile = config.text('http.client.auth.cert_file');
  const keyFile = config.text('http.client.auth.key_file');
  if (caPath === undefined && certFile === undefined && keyFile === undefined) return undefined;
  if ((certFile === undefined) !== (keyFile === undefined)) throw new Error('http.client.auth.cert_file and http.client.auth.key_file must be set together');
  return {
    ...(caPath !== undefined ? { ca: [...rootCertificates, ...readPems(caPath)].join('\n') } : {}),
    ...(certFile !== undefined ? { cert: read(certFile, 'http.client.auth.cert_file') } : {}),
    ...(keyFile !== undefined ? { key: read(keyFile, 'http.client.auth.key_file') } : {}),
  };
}

/** The scheme of the agent's own file transfer URLs: https when the service has a certificate (thin-edge). */
export function fileTransferScheme(config: ClientTlsConfig): 'http' | 'https' {
  return config.text('http.cert_path') !== undefined && config.text('http.key_path') !== undefined ? 'https' : 'http';
}

function readPems(path: string): string[] {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    throw new Error(`cannot read http.ca_path ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (!isDir) return [read(path, 'http.ca_path')];
  return readdirSync(path)
    .filter((n) => /\.(pem|crt)$/.test(n))
    .sort()
    .map((n) => read(join(path, n), 'http.ca_path'));
}

function read(path: string, key: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${key} ${path}: ${(e as Error).message}`, { cause: e });
  }
}
