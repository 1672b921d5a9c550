import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyConnectError, type FailureContext, timeoutError } from '../../../src/connect/classify';
import { TedgeError } from '../../../src/core/errors';

const CTX: FailureContext = {
  endpoint: 'tenant.example.com:8883',
  host: 'tenant.example.com',
  mqttKey: 'c8y.mqtt',
  certPath: '/etc/tedge/device-certs/tedge-certificate.pem',
  rootCertKey: 'c8y.root_cert_path',
  rootCertPath: '/etc/ssl/certs',
  timeoutMs: 10_000,
};

const sys = (code: string | number, message = `some ${code} error`): Error => Object.assign(new Error(message), { code });
/** As MqttBus reports a failed connection: MQTT_CONNECT with the socket error as cause. */
const wrapped = (cause: Error): TedgeError => new TedgeError('MQTT_CONNECT', `cannot connect to the MQTT broker at ${CTX.endpoint}: ${cause.message}`, { cause });

const SSL_ALERT = '80FC0487967F0000:error:0A000418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 48\n';

const TABLE: Array<[string, unknown, string, RegExp]> = [
  ['unknown host', wrapped(sys('ENOTFOUND')), 'CONNECT_DNS', /^DNS lookup failed: cannot resolve 'tenant\.example\.com' \(ENOTFOUND\); check c8y\.mqtt and the resolver$/],
  ['no resolver answer', wrapped(sys('EAI_AGAIN')), 'CONNECT_DNS', /^DNS lookup failed: .*\(EAI_AGAIN\)/],
  ['nothing listening', wrapped(sys('ECONNREFUSED')), 'CONNECT_TCP', /^TCP connection to tenant\.example\.com:8883 failed: connection refused, nothing listens there \(ECONNREFUSED\); check c8y\.mqtt and the firewall$/],
  ['no route', wrapped(sys('EHOSTUNREACH')), 'CONNECT_TCP', /^TCP connection to .* failed: the host is unreachable \(EHOSTUNREACH\)/],
  ['network down', sys('ENETUNREACH'), 'CONNECT_TCP', /the network is unreachable/],
  ['untrusted server', wrapped(sys('SELF_SIGNED_CERT_IN_CHAIN')), 'CERT_UNTRUSTED_SERVER', /^TLS handshake failed: the server tenant\.example\.com:8883 is not trusted: .*; check c8y\.root_cert_path \(\/etc\/ssl\/certs\)$/],
  ['wrong host name', wrapped(sys('ERR_TLS_CERT_ALTNAME_INVALID')), 'CERT_UNTRUSTED_SERVER', /^TLS handshake failed: .*for another host name/],
  ['our certificate refused (TLS 1.2 alert)', wrapped(sys('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', SSL_ALERT)), 'CERT_REJECTED', /^certificate rejected: the server tenant\.example\.com:8883 rejected the device certificate \/etc\/tedge\/device-certs\/tedge-certificate\.pem: its CA is unknown to the server/],
  ['no certificate sent (TLS 1.3 alert)', wrapped(sys('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED')), 'CERT_REJECTED', /^certificate rejected: .*a client certificate is required/],
  ['CONNACK not authorized', wrapped(sys(5, 'Connection refused: Not authorized')), 'CERT_REJECTED', /^certificate rejected: the server tenant\.example\.com:8883 refused the device \(MQTT CONNACK: not authorized\)/],
  ['CONNACK server unavailable', wrapped(sys(3, 'Connection refused: Server unavailable')), 'CONNECT_REFUSED', /^MQTT connection refused by tenant\.example\.com:8883: server unavailable$/],
  ['another TLS failure', wrapped(sys('ERR_SSL_WRONG_VERSION_NUMBER', '80:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../x.c:1:')), 'CONNECT_TLS', /^TLS handshake with tenant\.example\.com:8883 failed: wrong version number \(ERR_SSL_WRONG_VERSION_NUMBER\)$/],
  ['reset during the handshake', wrapped(sys('ECONNRESET')), 'CONNECT_TLS', /^TLS handshake with .* failed: the server closed the connection \(ECONNRESET\); is tenant\.example\.com:8883 a TLS endpoint\?$/],
  ["MQTT.js's own CONNACK timeout", wrapped(new Error('connack timeout')), 'CONNECT_TIMEOUT', /^timeout: no MQTT session with tenant\.example\.com:8883 \(TLS handshake or CONNACK\) within 10 s$/],
  ['a closed connection without a reason', new TedgeError('MQTT_CONNECT', 'cannot connect to the MQTT broker at x: the connection was closed'), 'CONNECT_TEST_FAILED', /^cannot connect to tenant\.example\.com:8883: cannot connect to the MQTT broker at x: the connection was closed$/],
  ['an unknown system error', wrapped(sys('EWHATEVER')), 'CONNECT_TEST_FAILED', /^cannot connect to tenant\.example\.com:8883: some EWHATEVER error \(EWHATEVER\)$/],
];

describe('classifyConnectError: one line naming the layer that failed', () => {
  for (const [what, error, code, message] of TABLE) {
    it(`${what} → ${code}`, () => {
      const classified = classifyConnectError(error, CTX);
      assert.equal(classified.code, code);
      assert.match(classified.message, message);
      assert.equal(classified.message.includes('\n'), false, 'one line');
      assert.equal(classified.cause, error);
    });
  }

  it('an error already classified passes unchanged', () => {
    const timeout = timeoutError(CTX, 'no JWT');
    assert.equal(classifyConnectError(timeout, CTX), timeout);
    const wrappedTwice = new TedgeError('MQTT_CONNECT', 'x', { cause: timeout });
    assert.equal(classifyConnectError(wrappedTwice, CTX), timeout);
  });

  it('timeoutError names what did not come and the limit', () => {
    assert.equal(timeoutError({ timeoutMs: 2500 }, 'no JWT (71 on s/dat) from h:1').message, 'timeout: no JWT (71 on s/dat) from h:1 within 2.5 s');
  });
});
