import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type TlsOptions, createSecureContext } from 'node:tls';
import { TedgeError, errorMessage } from '../../core/errors';

/** http.cert_path, http.key_path, http.ca_path as set (undefined when unset). */
export interface HttpTlsFiles {
  readonly certPath?: string | undefined;
  readonly keyPath?: string | undefined;
  readonly caPath?: string | undefined;
}

function read(key: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new TedgeError('CONFIG_INVALID_VALUE', `${key} is set to '${path}', which cannot be read: ${errorMessage(err)}`, { cause: err });
  }
}

/** A PEM file, or every file of a directory that holds certificates (as /etc/ssl/certs does). */
function readCertificates(path: string): string[] {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new TedgeError('CONFIG_INVALID_VALUE', `http.ca_path is set to '${path}', which cannot be read: ${errorMessage(err)}`, { cause: err });
  }
  const files = isDir ? readdirSync(path).sort().map((f) => join(path, f)) : [path];
  const pems = files.flatMap((f) => {
    try {
      if (!statSync(f).isFile()) return [];
      const text = readFileSync(f, 'utf8');
      return text.includes('-----BEGIN CERTIFICATE-----') ? [text] : [];
    } catch {
      return [];
    }
  });
  if (pems.length === 0) throw new TedgeError('CONFIG_INVALID_VALUE', `http.ca_path is set to '${path}', which holds no PEM certificate`);
  return pems;
}

/**
 * The TLS options of the agent HTTP service, or undefined for plain HTTP (§4.1): a certificate and its
 * key enable HTTPS; a CA path on top requires every client to present a certificate signed by one of
 * those CAs (mTLS). Half a configuration is an error at start, not a silent fallback to plain HTTP.
 */
export function httpTlsOptions(files: HttpTlsFiles): TlsOptions | undefined {
  const { certPath, keyPath, caPath } = files;
  if (certPath === undefined && keyPath === undefined) {
    if (caPath !== undefined) throw new TedgeError('CONFIG_INVALID_VALUE', 'http.ca_path is set but http.cert_path and http.key_path are not: client certificates need HTTPS');
    return undefined;
  }
  if (certPath === undefined || keyPath === undefined) {
    throw new TedgeError('CONFIG_INVALID_VALUE', `HTTPS needs both http.cert_path and http.key_path; only ${certPath === undefined ? 'http.key_path' : 'http.cert_path'} is set`);
  }
  const options: TlsOptions = { cert: read('http.cert_path', certPath), key: read('http.key_path', keyPath) };
  if (caPath !== undefined) {
    options.ca = readCertificates(caPath);
    options.requestCert = true;
    options.rejectUnauthorized = true;
  }
  try {
    // A key that does not match its certificate, or a file that is not PEM, fails here, at start.
    createSecureContext(options);
  } catch (err) {
    throw new TedgeError('CONFIG_INVALID_VALUE', `http.cert_path '${certPath}' and http.key_path '${keyPath}' are not a usable certificate and key: ${errorMessage(err)}`, { cause: err });
  }
  return options;
}
