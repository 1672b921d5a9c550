import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TedgeError } from '../core/errors';
import { isNotFound, writeFileAtomic } from './files';

/** Private keys are secrets: owner read/write only, as thin-edge and ssh do. */
export const KEY_FILE_MODE = 0o600;

/**
 * A new EC P-256 key: what thin-edge generates (ECDSA P-256 with SHA-256, RFC 5758), accepted by
 * Cumulocity, Azure and AWS, and cheap to sign with on small devices. node:crypto makes it natively.
 */
export function generatePrivateKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
}

/** PKCS#8 PEM (`BEGIN PRIVATE KEY`), the form thin-edge writes and mosquitto, openssl and Node read. */
export function privateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Writes a key atomically with mode 0600 (the temp file already has that mode, so it never leaks). */
export function writePrivateKey(keyPath: string, key: KeyObject): void {
  try {
    writeFileAtomic(keyPath, privateKeyPem(key), KEY_FILE_MODE);
  } catch (cause) {
    throw new TedgeError('IO', `cannot write the private key ${keyPath}: ${(cause as Error).message}`, { cause });
  }
}

/** Reads a PEM private key (PKCS#8, SEC1 "EC PRIVATE KEY" or PKCS#1 RSA), failing with one clear line. */
export function readPrivateKey(keyPath: string): KeyObject {
  let pem: Buffer;
  try {
    pem = readFileSync(keyPath);
  } catch (cause) {
    if (isNotFound(cause)) throw new TedgeError('CERT_KEY_MISSING', `private key not found: ${keyPath}`, { cause });
    throw new TedgeError('CERT_KEY_INVALID', `cannot read the private key ${keyPath}: ${(cause as Error).message}`, { cause });
  }
  try {
    return createPrivateKey(pem);
  } catch (cause) {
    throw new TedgeError('CERT_KEY_INVALID', `not a PEM private key: ${keyPath}`, { cause });
  }
}

/** The existing key (so a CSR or renewal keeps the key the cloud may already know), else a new one written 0600. */
export function readOrCreatePrivateKey(keyPath: string): { key: KeyObject; created: boolean } {
  try {
    return { key: readPrivateKey(keyPath), created: false };
  } catch (error) {
    if (!(error instanceof TedgeError) || error.code !== 'CERT_KEY_MISSING') throw error;
  }
  const key = generatePrivateKey();
  writePrivateKey(keyPath, key);
  return { key, created: true };
}
