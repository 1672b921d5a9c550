import { type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Clock } from '../core/clock';
import { TedgeError } from '../core/errors';
import { isNotFound } from './files';
import { type CertificateInfo, certificateInfo, humanDuration, rfc2822, validityStatus } from './inspect';
import { readPrivateKey } from './key-pair';

/**
 * Checks the connection code runs before it opens TLS, so that a bad local file is reported as that
 * (one line naming the path and the problem) rather than as an opaque handshake failure.
 * node:crypto only: the daemons never load the certificate-writing library.
 */

/** Reads and parses a PEM certificate: CERT_MISSING when there is no file, CERT_INVALID when it is not one. */
export function readCertificate(certPath: string, hint = 'create one with: tedge cert create --device-id <id>'): X509Certificate {
  let pem: Buffer;
  try {
    pem = readFileSync(certPath);
  } catch (cause) {
    if (isNotFound(cause)) throw new TedgeError('CERT_MISSING', `certificate not found: ${certPath}; ${hint}`, { cause });
    throw new TedgeError('CERT_INVALID', `cannot read the certificate ${certPath}: ${(cause as Error).message}`, { cause });
  }
  try {
    return new X509Certificate(pem);
  } catch (cause) {
    throw new TedgeError('CERT_INVALID', `not a PEM X.509 certificate: ${certPath}`, { cause });
  }
}

/** CERT_EXPIRED / CERT_NOT_YET_VALID at `now`. A device with a wrong clock gets the second, with the dates. */
export function checkValidity(cert: X509Certificate, certPath: string, now: Date): CertificateInfo {
  const info = certificateInfo(cert);
  const status = validityStatus(info, now);
  switch (status.kind) {
    case 'valid':
      return info;
    case 'expired':
      throw new TedgeError('CERT_EXPIRED', `certificate expired on ${rfc2822(info.notAfter)} (${humanDuration(status.sinceMs)} ago): ${certPath}; renew it with: tedge cert renew`);
    case 'not-yet-valid':
      throw new TedgeError('CERT_NOT_YET_VALID', `certificate not valid before ${rfc2822(info.notBefore)} (is the device clock right? it says ${rfc2822(now)}): ${certPath}`);
  }
}

/** The key must be the private half of the certificate's public key, else TLS fails with a vague error. */
export function checkKeyMatches(cert: X509Certificate, certPath: string, key: KeyObject, keyPath: string): void {
  let matches: boolean;
  try {
    matches = cert.checkPrivateKey(key);
  } catch {
    matches = false; // e.g. an RSA key against an EC certificate
  }
  if (!matches) throw new TedgeError('CERT_KEY_MISMATCH', `the private key ${keyPath} does not match the certificate ${certPath}`);
}

/**
 * Everything checked before connecting with a certificate: present and readable, currently valid,
 * key present, readable and matching. Returns what the connection code logs.
 */
export function validateDeviceCertificate(paths: { readonly certPath: string; readonly keyPath: string }, clock: Clock): CertificateInfo {
  const cert = readCertificate(paths.certPath);
  const info = checkValidity(cert, paths.certPath, clock.now());
  checkKeyMatches(cert, paths.certPath, readPrivateKey(paths.keyPath), paths.keyPath);
  return info;
}
