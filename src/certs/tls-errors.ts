import { TedgeError } from '../core/errors';

/**
 * Turns a TLS failure from node:tls (or MQTT.js, which passes it on) into one line saying which side
 * refused whom: we do not trust the server (CERT_UNTRUSTED_SERVER: fix the root certificates), or the
 * server refused our certificate (CERT_REJECTED: the cloud does not trust it yet). Other errors
 * (DNS, TCP, timeouts) are not certificate problems: undefined, the caller reports them.
 */

/** Our verification of the server failed: OpenSSL's X509_V_ERR names, as node gives them in `code`. */
const SERVER_UNTRUSTED: Readonly<Record<string, string>> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its certificate is not signed by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT: 'the issuer of its certificate is unknown',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the issuer of its certificate is not among the trusted CAs',
  SELF_SIGNED_CERT_IN_CHAIN: 'its certificate chain ends in an untrusted self-signed CA',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its certificate is self-signed and not trusted',
  CERT_UNTRUSTED: 'its certificate is not trusted',
  CERT_SIGNATURE_FAILURE: 'the signature of its certificate is invalid',
  CERT_HAS_EXPIRED: 'its certificate has expired',
  CERT_NOT_YET_VALID: 'its certificate is not valid yet (is the device clock right?)',
  CERT_REVOKED: 'its certificate is revoked',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate is for another host name',
  HOSTNAME_MISMATCH: 'its certificate is for another host name',
};

/** The server sent a TLS alert about our certificate: ERR_SSL_<version>_ALERT_<name>. */
const CERT_REFUSED: Readonly<Record<string, string>> = {
  BAD_CERTIFICATE: 'bad certificate',
  UNKNOWN_CA: 'its CA is unknown to the server',
  CERTIFICATE_EXPIRED: 'certificate expired',
  CERTIFICATE_REVOKED: 'certificate revoked',
  CERTIFICATE_UNKNOWN: 'certificate unknown',
  CERTIFICATE_REQUIRED: 'a client certificate is required',
  UNSUPPORTED_CERTIFICATE: 'unsupported certificate',
  ACCESS_DENIED: 'access denied',
};

export interface TlsContext {
  /** host:port of the cloud endpoint */
  readonly endpoint: string;
  readonly certPath: string;
  /** The config key and value of the trusted CAs, e.g. c8y.root_cert_path=/etc/ssl/certs */
  readonly rootCertKey: string;
  readonly rootCertPath: string;
}

export function classifyTlsError(error: unknown, ctx: TlsContext): TedgeError | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return undefined;
  const untrusted = SERVER_UNTRUSTED[code];
  if (untrusted !== undefined) {
    return new TedgeError('CERT_UNTRUSTED_SERVER', `the server ${ctx.endpoint} is not trusted: ${untrusted}; check ${ctx.rootCertKey} (${ctx.rootCertPath})`, { cause: error });
  }
  const alert = /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13)_ALERT_([A-Z_]+)$/.exec(code)?.[1];
  const refused = alert === undefined ? undefined : CERT_REFUSED[alert];
  if (refused !== undefined) {
    return new TedgeError('CERT_REJECTED', `the server ${ctx.endpoint} rejected the device certificate ${ctx.certPath}: ${refused}; is it trusted by the cloud (tedge cert upload)?`, { cause: error });
  }
  return undefined;
}
