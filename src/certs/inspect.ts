import { createHash, X509Certificate } from 'node:crypto';
import { commonNameOf, oneLineName } from './subject';

/** What `tedge cert show` prints and what the connection code logs. Read with node:crypto only. */
export interface CertificateInfo {
  /** The CN: the device id. Empty when the certificate has no CN. */
  readonly deviceId: string;
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Upper-case hex, as node and openssl print it. */
  readonly serialHex: string;
  /** SHA-1 of the DER, upper-case hex without separators: the thumbprint thin-edge and Cumulocity show. */
  readonly thumbprint: string;
  readonly selfSigned: boolean;
}

export function certificateInfo(cert: X509Certificate): CertificateInfo {
  return {
    deviceId: commonNameOf(cert.subject) ?? '',
    subject: oneLineName(cert.subject),
    issuer: oneLineName(cert.issuer),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    serialHex: cert.serialNumber.toUpperCase(),
    thumbprint: createHash('sha1').update(cert.raw).digest('hex').toUpperCase(),
    selfSigned: isSelfSigned(cert),
  };
}

/** Issued by itself: same name and its own key verifies its signature. */
export function isSelfSigned(cert: X509Certificate): boolean {
  return cert.subject === cert.issuer && cert.verify(cert.publicKey);
}

export type ValidityStatus =
  | { readonly kind: 'valid'; readonly expiresInMs: number }
  | { readonly kind: 'expired'; readonly sinceMs: number }
  | { readonly kind: 'not-yet-valid'; readonly validInMs: number };

export function validityStatus(info: Pick<CertificateInfo, 'notBefore' | 'notAfter'>, now: Date): ValidityStatus {
  const t = now.getTime();
  if (t < info.notBefore.getTime()) return { kind: 'not-yet-valid', validInMs: info.notBefore.getTime() - t };
  if (t > info.notAfter.getTime()) return { kind: 'expired', sinceMs: t - info.notAfter.getTime() };
  return { kind: 'valid', expiresInMs: info.notAfter.getTime() - t };
}

/** The `tedge cert show` block, labels as in thin-edge. */
export function formatCertificateInfo(path: string, info: CertificateInfo, now: Date): string {
  const rows: Array<[string, string]> = [
    ['Certificate', path],
    ['Device id', info.deviceId],
    ['Subject', info.subject],
    ['Issuer', info.issuer],
    ['Status', statusText(validityStatus(info, now))],
    ['Valid from', rfc2822(info.notBefore)],
    ['Valid up to', rfc2822(info.notAfter)],
    ['Serial number', `${BigInt(`0x${info.serialHex}`).toString()} (0x${info.serialHex.toLowerCase()})`],
    ['Thumbprint', info.thumbprint],
  ];
  return rows.map(([label, value]) => `${`${label}:`.padEnd(15)}${value}\n`).join('');
}

function statusText(status: ValidityStatus): string {
  switch (status.kind) {
    case 'valid':
      return `VALID (expires in: ${humanDuration(status.expiresInMs)})`;
    case 'expired':
      return `EXPIRED (since: ${humanDuration(status.sinceMs)})`;
    case 'not-yet-valid':
      return `NOT VALID YET (will be in: ${humanDuration(status.validInMs)})`;
  }
}

/** "364d 23h 59m 58s": largest units first, zeros left out, seconds precision (certificates have no more). */
export function humanDuration(ms: number): string {
  let s = Math.floor(Math.abs(ms) / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(s / size);
    s -= n * size;
    if (n > 0) parts.push(`${n}${unit}`);
  }
  return parts.length === 0 ? '0s' : parts.join(' ');
}

/** "Wed, 31 Mar 2021 15:39:57 +0000", the date form thin-edge prints. */
export function rfc2822(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}
