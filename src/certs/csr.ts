import type { KeyObject } from 'node:crypto';
import type { DeviceSubject } from './subject';
import { jsonName } from './subject';
import { signerFor, x509 } from './x509-lib';

/** CSRs hold no secret; readable like the certificate they will become. */
export const CSR_FILE_MODE = 0o644;

/**
 * A PKCS#10 certificate signing request (PEM) with the device subject (CN = device id, O, OU), signed
 * with the device key: what a CA (Cumulocity's, or a company PKI) needs to issue the device certificate.
 */
export async function createCsr(subject: DeviceSubject, privateKey: KeyObject): Promise<string> {
  const lib = x509();
  const signer = await signerFor(privateKey);
  const csr = await lib.Pkcs10CertificateRequestGenerator.create({
    name: jsonName(subject),
    keys: signer.keys,
    signingAlgorithm: signer.algorithm,
  });
  return csr.toString('pem') + '\n';
}
