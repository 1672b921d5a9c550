import { createPublicKey, type KeyObject, webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import { TedgeError } from '../core/errors';

/**
 * The one place that loads @peculiar/x509 (node:crypto makes keys and reads certificates, but cannot
 * write a certificate or a CSR). Loaded on first use, not at import: it costs ~75 ms, which every
 * `tedge` command and the daemons would otherwise pay for the few commands that create certificates.
 * It resolves its parts through tsyringe, which needs the reflect-metadata polyfill loaded first.
 */
let loaded: typeof X509 | undefined;

export function x509(): typeof X509 {
  if (loaded === undefined) {
    require('reflect-metadata');
    const lib = require('@peculiar/x509') as typeof X509;
    lib.cryptoProvider.set(webcrypto);
    loaded = lib;
  }
  return loaded;
}

/** What the generators need to sign with a node:crypto key: WebCrypto keys and the matching algorithm. */
export interface Signer {
  readonly keys: { privateKey: webcrypto.CryptoKey; publicKey: webcrypto.CryptoKey };
  readonly algorithm: webcrypto.EcdsaParams & webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
}

const EC_CURVES: Readonly<Record<string, { namedCurve: string; hash: string }>> = {
  prime256v1: { namedCurve: 'P-256', hash: 'SHA-256' },
  secp384r1: { namedCurve: 'P-384', hash: 'SHA-384' },
  secp521r1: { namedCurve: 'P-521', hash: 'SHA-512' },
};

/** The signature algorithm follows the key: ECDSA with the curve's hash, or RSA PKCS#1 v1.5 with SHA-256. */
function algorithmFor(key: KeyObject): Signer['algorithm'] {
  if (key.asymmetricKeyType === 'ec') {
    const curve = EC_CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
    if (curve !== undefined) return { name: 'ECDSA', namedCurve: curve.namedCurve, hash: curve.hash };
  }
  if (key.asymmetricKeyType === 'rsa') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const detail = key.asymmetricKeyDetails?.namedCurve ?? '';
  throw new TedgeError('CERT_UNSUPPORTED', `unsupported private key type '${key.asymmetricKeyType ?? 'unknown'}${detail ? ` ${detail}` : ''}': use an EC (P-256, P-384, P-521) or RSA key`);
}

export async function signerFor(privateKey: KeyObject): Promise<Signer> {
  const algorithm = algorithmFor(privateKey);
  const subtle = webcrypto.subtle;
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return {
    algorithm,
    keys: {
      privateKey: await subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']),
      publicKey: await subtle.importKey('spki', spki, algorithm, true, ['verify']),
    },
  };
}
