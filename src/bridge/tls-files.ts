import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TedgeError } from '../core/errors';

export interface TlsFiles {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

/**
 * The trust anchors of `<cloud>.root_cert_path`: one PEM file, or every *.pem / *.crt in a directory
 * (such as /etc/ssl/certs, skipping its hash links, which repeat the same certificates).
 */
export function readCaCertificates(path: string): Buffer {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (cause) {
    throw new TedgeError('CERT_MISSING', `cannot read the cloud CA certificates at ${path}: ${(cause as Error).message}`, { cause });
  }
  if (!isDir) return readFileSync(path);
  const files = readdirSync(path)
    .filter((f) => /\.(pem|crt)$/.test(f))
    .sort();
  const pems = files.flatMap((f) => {
    try {
      const text = readFileSync(join(path, f));
      return text.includes('-----BEGIN CERTIFICATE-----') ? [text] : [];
    } catch {
      return []; // an unreadable file among many is not the device's problem
    }
  });
  if (pems.length === 0) throw new TedgeError('CERT_MISSING', `no CA certificate (*.pem, *.crt) in ${path}`);
  return Buffer.concat(pems.flatMap((p) => [p, Buffer.from('\n')]));
}

/**
 * Read at every connection attempt, not once: a certificate created or renewed while the mapper
 * runs is used at the next reconnect without a restart.
 */
export function readTlsFiles(paths: { readonly rootCertPath: string; readonly certPath: string; readonly keyPath: string }): TlsFiles {
  const ca = readCaCertificates(paths.rootCertPath);
  const cert = readOrFail(paths.certPath, 'CERT_MISSING', 'device certificate', 'tedge cert create --device-id <id>');
  const key = readOrFail(paths.keyPath, 'CERT_KEY_MISSING', 'device private key', 'tedge cert create --device-id <id>');
  return { ca, cert, key };
}

function readOrFail(path: string, code: 'CERT_MISSING' | 'CERT_KEY_MISSING', what: string, hint: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new TedgeError(code, `cannot read the ${what} ${path} (${(cause as NodeJS.ErrnoException).code ?? 'error'}); create one with: ${hint}`, { cause });
  }
}
