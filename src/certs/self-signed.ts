import { type KeyObject, randomBytes } from 'node:crypto';
import type { DeviceSubject } from './subject';
import { jsonName } from './subject';
import { signerFor, x509 } from './x509-lib';

/** Certificates are public: world-readable, so that mosquitto (another user) can load them. */
export const CERT_FILE_MODE = 0o644;

/** Backdated like thin-edge's, so a cloud whose clock is a little behind the device's accepts it at once. */
const BACKDATE_MS = 24 * 3600 * 1000;

export interface SelfSignedRequest {
  readonly subject: DeviceSubject;
  readonly privateKey: KeyObject;
  /** certificate.validity.requested_duration, in ms: the certificate expires that long after `now`. */
  readonly validityMs: number;
  readonly now: Date;
  /** Injected in tests; 16 random bytes otherwise. */
  readonly random?: (size: number) => Buffer;
}

/**
 * A self-signed device certificate (PEM). It is marked CA:TRUE like thin-edge's: the user uploads it to
 * Cumulocity as a trusted certificate, i.e. as its own CA, and Cumulocity rejects one that is not a CA
 * (422). Key usage: signing for the TLS handshake, signing certificates (itself), TLS client auth.
 */
export async function createSelfSignedCertificate(request: SelfSignedRequest): Promise<string> {
  const lib = x509();
  const signer = await signerFor(request.privateKey);
  const flags = lib.KeyUsageFlags;
  const cert = await lib.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialHex(request.random ?? randomBytes),
    name: jsonName(request.subject),
    notBefore: new Date(request.now.getTime() - BACKDATE_MS),
    notAfter: new Date(request.now.getTime() + request.validityMs),
    keys: signer.keys,
    signingAlgorithm: signer.algorithm,
    extensions: [
      new lib.BasicConstraintsExtension(true, undefined, true),
      new lib.KeyUsagesExtension(flags.digitalSignature | flags.keyCertSign, true),
      new lib.ExtendedKeyUsageExtension([lib.ExtendedKeyUsage.clientAuth]),
      await lib.SubjectKeyIdentifierExtension.create(signer.keys.publicKey),
    ],
  });
  return cert.toString('pem') + '\n';
}

/**
 * A positive 128-bit serial (RFC 5280: positive, at most 20 bytes, unpredictable). The top bits are
 * fixed to 01 so the DER integer needs no sign byte and never loses a leading zero byte.
 */
export function serialHex(random: (size: number) => Buffer): string {
  const bytes = Buffer.from(random(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x3f) | 0x40;
  return bytes.toString('hex');
}
