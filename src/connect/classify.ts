import { classifyTlsError } from '../certs/tls-errors';
import { type ErrorCode, TedgeError, isTedgeError } from '../core/errors';

/**
 * Why a connection to the cloud failed, as one line naming the layer that failed: DNS, TCP, TLS
 * handshake (we do not trust the server), certificate rejected (the server does not trust us),
 * timeout. A user fixes each in a different place (resolver, firewall, root certificates, the
 * cloud's trusted certificates, the network), so the layer comes first.
 */

export interface FailureContext {
  /** host:port */
  readonly endpoint: string;
  readonly host: string;
  /** The key the endpoint comes from, e.g. c8y.mqtt */
  readonly mqttKey: string;
  readonly certPath: string;
  readonly rootCertKey: string;
  readonly rootCertPath: string;
  readonly timeoutMs: number;
}

const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'EAI_NODATA', 'EAI_ADDRFAMILY']);
const TCP: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused, nothing listens there',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  EHOSTDOWN: 'the host is down',
  EADDRNOTAVAIL: 'the address is not available',
  ETIMEDOUT: 'the TCP connection timed out',
};
/** MQTT CONNACK return codes (3.1.1) other than 0. */
const CONNACK: Readonly<Record<number, string>> = {
  1: 'unacceptable protocol version',
  2: 'client identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};

/** The layered codes this module produces, and the certificate codes of certs/tls-errors. */
const CLASSIFIED: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['CONNECT_DNS', 'CONNECT_TCP', 'CONNECT_TLS', 'CONNECT_TIMEOUT', 'CONNECT_REFUSED', 'CONNECT_TEST_FAILED', 'CERT_UNTRUSTED_SERVER', 'CERT_REJECTED']);

/** The error and its causes, outermost first (MqttBus wraps the socket error in MQTT_CONNECT). */
function chain(error: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = error; e !== undefined && e !== null && out.length < 8; e = (e as { cause?: unknown }).cause) out.push(e);
  return out;
}

/** OpenSSL's "…:SSL routines:<function>:<reason>:<file>:<line>…" → reason; else the first line. */
function sslReason(message: string): string {
  return /:SSL routines:[^:]*:([^:]+):/.exec(message)?.[1] ?? message.split('\n')[0] ?? message;
}

export function classifyConnectError(error: unknown, ctx: FailureContext): TedgeError {
  if (isTedgeError(error) && CLASSIFIED.has(error.code)) return error;
  const tls = { endpoint: ctx.endpoint, certPath: ctx.certPath, rootCertKey: ctx.rootCertKey, rootCertPath: ctx.rootCertPath };
  for (const e of chain(error)) {
    if (isTedgeError(e)) {
      if (CLASSIFIED.has(e.code)) return e;
      continue; // a wrapper: look at its cause
    }
    const code = (e as { code?: unknown }).code;
    const message = e instanceof Error ? e.message : String(e);
    if (typeof code === 'number') {
      const why = CONNACK[code] ?? `return code ${code}`;
      // With certificate authentication, "not authorized" is the cloud refusing the certificate.
      if (code === 4 || code === 5) return new TedgeError('CERT_REJECTED', `certificate rejected: the server ${ctx.endpoint} refused the device (MQTT CONNACK: ${why}); is the certificate ${ctx.certPath} trusted by the cloud (tedge cert upload)?`, { cause: error });
      return new TedgeError('CONNECT_REFUSED', `MQTT connection refused by ${ctx.endpoint}: ${why}`, { cause: error });
    }
    if (typeof code !== 'string') {
      if (message === 'connack timeout') return timeoutError(ctx, `no MQTT session with ${ctx.endpoint} (TLS handshake or CONNACK)`, error);
      continue;
    }
    if (DNS.has(code)) return new TedgeError('CONNECT_DNS', `DNS lookup failed: cannot resolve '${ctx.host}' (${code}); check ${ctx.mqttKey} and the resolver`, { cause: error });
    const tcp = TCP[code];
    if (tcp !== undefined) return new TedgeError('CONNECT_TCP', `TCP connection to ${ctx.endpoint} failed: ${tcp} (${code}); check ${ctx.mqttKey} and the firewall`, { cause: error });
    const cert = classifyTlsError(e, tls);
    if (cert !== undefined) {
      const layer = cert.code === 'CERT_REJECTED' ? 'certificate rejected' : 'TLS handshake failed';
      return new TedgeError(cert.code, `${layer}: ${cert.message}`, { cause: error });
    }
    if (code === 'ECONNRESET' || code === 'EPIPE') return new TedgeError('CONNECT_TLS', `TLS handshake with ${ctx.endpoint} failed: the server closed the connection (${code}); is ${ctx.endpoint} a TLS endpoint?`, { cause: error });
    if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO') return new TedgeError('CONNECT_TLS', `TLS handshake with ${ctx.endpoint} failed: ${sslReason(message)} (${code})`, { cause: error });
    return new TedgeError('CONNECT_TEST_FAILED', `cannot connect to ${ctx.endpoint}: ${sslReason(message)} (${code})`, { cause: error });
  }
  // No code anywhere: MqttBus saw the socket close without an error, e.g. a server that drops a
  // client it does not accept without sending a TLS alert or a CONNACK.
  const innermost = chain(error).at(-1);
  const why = innermost instanceof Error ? (innermost.message.split('\n')[0] ?? '') : String(innermost);
  return new TedgeError('CONNECT_TEST_FAILED', `cannot connect to ${ctx.endpoint}: ${why}`, { cause: error });
}

/** `timeout: <what> within N s` */
export function timeoutError(ctx: Pick<FailureContext, 'timeoutMs'>, what: string, cause?: unknown): TedgeError {
  return new TedgeError('CONNECT_TIMEOUT', `timeout: ${what} within ${ctx.timeoutMs / 1000} s`, { cause });
}
