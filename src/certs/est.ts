import type { X509Certificates } from '@peculiar/x509';
import { TedgeError } from '../core/errors';
import { x509 } from './x509-lib';

/**
 * Cumulocity's certificate authority speaks EST (RFC 7030) for thin-edge: the body of
 * `/.well-known/est/simpleenroll|simplereenroll` is the CSR in base64 (PEM without its armour), the
 * answer a base64 PKCS#7 certs-only structure.
 */
export function estCsrBody(csrPem: string): string {
  return csrPem
    .replace(/-----(BEGIN|END) (NEW )?CERTIFICATE REQUEST-----/g, '')
    .replace(/\s+/g, '');
}

/** The certificates of a base64 PKCS#7 answer as PEM, the device certificate first. */
export function pkcs7ToPem(pkcs7Base64: string): string {
  let certs: X509Certificates;
  try {
    certs = new (x509().X509Certificates)(pkcs7Base64.replace(/\s+/g, ''));
  } catch (cause) {
    throw new TedgeError('CERT_INVALID', 'the certificate authority did not answer with a PKCS#7 certificate', { cause });
  }
  if (certs.length === 0) throw new TedgeError('CERT_INVALID', 'the PKCS#7 answer of the certificate authority holds no certificate');
  return `${certs.map((c) => c.toString('pem')).join('\n')}\n`;
}
