import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type AddressInfo, connect as netConnect, createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { connect, type ConnectionOptions } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { generatePrivateKey, privateKeyPem } from '../../../src/certs/key-pair';
import { classifyTlsError, type TlsContext } from '../../../src/certs/tls-errors';
import type { ErrorCode } from '../../../src/core/errors';
import { isCertError, selfSigned, tempConfigDir } from './cert-fixtures';

const CTX: TlsContext = { endpoint: 'cloud.example.com:8883', certPath: '/etc/tedge/device-certs/tedge-certificate.pem', rootCertKey: 'c8y.root_cert_path', rootCertPath: '/etc/ssl/certs' };

describe('TLS errors in one line', () => {
  const cases: Array<[string, ErrorCode | undefined, RegExp]> = [
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_UNTRUSTED_SERVER', /^the server cloud\.example\.com:8883 is not trusted: its certificate is self-signed and not trusted; check c8y\.root_cert_path \(\/etc\/ssl\/certs\)$/],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED_SERVER', /issuer of its certificate is not among the trusted CAs/],
    ['CERT_HAS_EXPIRED', 'CERT_UNTRUSTED_SERVER', /its certificate has expired/],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED_SERVER', /for another host name/],
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'CERT_REJECTED', /^the server cloud\.example\.com:8883 rejected the device certificate \/etc\/tedge\/device-certs\/tedge-certificate\.pem: its CA is unknown to the server; is it trusted by the cloud/],
    ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'CERT_REJECTED', /: bad certificate;/],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'CERT_REJECTED', /a client certificate is required/],
    ['ECONNREFUSED', undefined, /./],
    ['ENOTFOUND', undefined, /./],
    ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', undefined, /./],
  ];
  for (const [code, expected, pattern] of cases) {
    it(`${code} → ${expected ?? 'not a certificate problem'}`, () => {
      const classified = classifyTlsError(Object.assign(new Error(code), { code }), CTX);
      if (expected === undefined) assert.equal(classified, undefined);
      else assert.ok(isCertError(expected, pattern)(classified));
    });
  }
  it('an error without a code is not classified', () => assert.equal(classifyTlsError(new Error('x'), CTX), undefined));
});

/**
 * Against `openssl s_server`, as a cloud broker behaves: it refuses a client certificate with a TLS
 * alert. (A node:tls server just drops the connection, which a client sees as ECONNRESET.)
 */
describe('TLS errors from a real handshake', () => {
  const t = tempConfigDir('tls');
  let server: ChildProcess | undefined;
  let port = 0;
  let serverCert = '';

  before(async () => {
    // A server certificate for localhost (ours are client certificates: clientAuth only).
    const key = join(t.dir, 'server.key');
    const cert = join(t.dir, 'server.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
    serverCert = readFileSync(cert, 'utf8');
    port = await freePort();
    // The server trusts only its own certificate as a CA: any device certificate is unknown to it.
    server = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', cert, '-key', key, '-CAfile', cert, '-Verify', '1', '-verify_return_error', '-quiet'], { stdio: 'ignore' });
    await waitForPort(port);
  });
  after(() => {
    server?.kill();
    t.cleanup();
  });

  /** Connects; resolves with the first error, or undefined when the connection closes without one. */
  function tryConnect(options: ConnectionOptions): Promise<unknown> {
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ...options });
      socket.on('error', (e) => resolve(e));
      socket.on('secureConnect', () => setTimeout(() => socket.end(), 500)); // TLS 1.3: a refusal comes after the handshake
      socket.on('close', () => resolve(undefined));
    });
  }

  it('a server we have no CA for is CERT_UNTRUSTED_SERVER', async () => {
    const error = await tryConnect({ ca: [] });
    assert.ok(isCertError('CERT_UNTRUSTED_SERVER', /is not trusted: /)(classifyTlsError(error, CTX)), `got ${String(error)}`);
  });

  for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`a device certificate the server does not trust is CERT_REJECTED (${maxVersion})`, async () => {
      const deviceKey = generatePrivateKey();
      const error = await tryConnect({ ca: serverCert, cert: await selfSigned(deviceKey), key: privateKeyPem(deviceKey), maxVersion });
      assert.ok(isCertError('CERT_REJECTED', /rejected the device certificate .*: its CA is unknown to the server/)(classifyTlsError(error, CTX)), `got ${String(error)}`);
    });
  }
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Until something accepts TCP connections on the port (s_server prints nothing useful with -quiet). */
async function waitForPort(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = netConnect(port, '127.0.0.1');
      socket.on('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
