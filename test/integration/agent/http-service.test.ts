import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HttpAgentUnderTest, send } from '../../helpers/agent-http';
import { AgentUnderTest } from '../../helpers/agent-under-test';
import { SimPki } from '../../helpers/cloud-sim/pki';
import { freePort } from '../../helpers/mosquitto';

/**
 * Log lines at error level or above (` ERROR `, ` FATAL ` in the text format) that concern the HTTP service or the agent's exit (other
 * components may log their own environment errors, e.g. a log plugin without systemd); the last
 * error line must be the one that made the agent exit.
 */
function errorLines(output: string): string[] {
  const errors = output.split('\n').filter((l) => /(^|\s)(ERROR|FATAL) /.test(l));
  const ours = errors.filter((l) => /http/i.test(l));
  assert.equal(errors.at(-1), ours.at(-1), `the last error line is not the HTTP one:\n${output}`);
  return ours;
}

describe('agent HTTP service over HTTPS, with and without client certificates', () => {
  let pkiDir: string;
  let pki: SimPki;
  let client: { cert: string; key: string };
  let ca: string;
  before(() => {
    pkiDir = mkdtempSync(join(tmpdir(), 'tedge-http-pki-'));
    pki = SimPki.create(join(pkiDir, 'ca'));
    ca = readFileSync(pki.caCert, 'utf8');
    pki.issueDeviceCertificate('http-client', join(pkiDir, 'client.crt'), join(pkiDir, 'client.key'));
    client = { cert: readFileSync(join(pkiDir, 'client.crt'), 'utf8'), key: readFileSync(join(pkiDir, 'client.key'), 'utf8') };
  });
  after(() => rmSync(pkiDir, { recursive: true, force: true }));

  describe('https (http.cert_path, http.key_path)', () => {
    let t: HttpAgentUnderTest;
    before(async () => {
      t = await HttpAgentUnderTest.start({ TEDGE_HTTP_CERT_PATH: pki.serverCert, TEDGE_HTTP_KEY_PATH: pki.serverKey });
    });
    after(async () => {
      await t?.stop();
    });

    it('serves file transfer and the entity API over TLS with its certificate', async () => {
      const put = await t.request('PUT', '/te/v1/files/secure.txt', { body: 'over tls', tls: { ca } });
      assert.equal(put.status, 201);
      assert.equal((await t.request('GET', '/te/v1/files/secure.txt', { tls: { ca } })).text(), 'over tls');
      assert.equal((await t.request('GET', '/te/v1/entities/device/main//', { tls: { ca } })).status, 200);
    });

    it('redirects plain HTTP on the same port to https (307, as thin-edge)', async () => {
      const r = await t.request('GET', '/te/v1/files/secure.txt');
      assert.equal(r.status, 307);
      assert.equal(r.headers.location, `https://127.0.0.1:${t.httpPort}/te/v1/files/secure.txt`);
    });

    it('survives connections reset before and during the TLS handshake', async () => {
      for (const first of ['', 'GE', '\x16\x03\x01\x00']) {
        await new Promise<void>((resolve) => {
          const s = connect(t.httpPort, '127.0.0.1', () => {
            if (first !== '') s.write(first, 'latin1');
            setTimeout(() => {
              s.resetAndDestroy();
              resolve();
            }, 50);
          });
          s.on('error', () => resolve());
        });
      }
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(t.agent.exited, false, t.agent.output);
      assert.equal((await t.request('GET', '/te/v1/files/secure.txt', { tls: { ca } })).status, 200);
    });

    it('a client that does not trust the certificate fails the handshake', async () => {
      await assert.rejects(t.request('GET', '/te/v1/files/secure.txt', { tls: {} }), /self-signed|unable to (get|verify)|certificate/i);
    });
  });

  describe('mTLS (http.ca_path)', () => {
    let t: HttpAgentUnderTest;
    before(async () => {
      // A directory, as /etc/ssl/certs: every certificate file in it is trusted.
      t = await HttpAgentUnderTest.start((dir) => {
        const trust = join(dir, 'trust');
        mkdirSync(trust);
        execFileSync('cp', [pki.caCert, join(trust, 'ca.pem')]);
        return { TEDGE_HTTP_CERT_PATH: pki.serverCert, TEDGE_HTTP_KEY_PATH: pki.serverKey, TEDGE_HTTP_CA_PATH: trust };
      });
    });
    after(async () => {
      await t?.stop();
    });

    it('accepts a client with a certificate signed by a trusted CA', async () => {
      const r = await t.request('PUT', '/te/v1/files/mtls.txt', { body: 'ok', tls: { ca, ...client } });
      assert.equal(r.status, 201);
      assert.equal((await t.request('GET', '/te/v1/files/mtls.txt', { tls: { ca, ...client } })).text(), 'ok');
    });

    it('rejects a client without a certificate, and one with a certificate from another CA', async () => {
      await assert.rejects(t.request('GET', '/te/v1/files/mtls.txt', { tls: { ca } }));
      const otherDir = join(pkiDir, 'other');
      const other = SimPki.create(otherDir);
      other.issueDeviceCertificate('intruder', join(otherDir, 'c.crt'), join(otherDir, 'c.key'));
      const intruder = { cert: readFileSync(join(otherDir, 'c.crt'), 'utf8'), key: readFileSync(join(otherDir, 'c.key'), 'utf8') };
      await assert.rejects(t.request('GET', '/te/v1/files/mtls.txt', { tls: { ca, ...intruder } }));
      // And it keeps serving the trusted client.
      assert.equal((await t.request('GET', '/te/v1/files/mtls.txt', { tls: { ca, ...client } })).status, 200);
    });
  });
});

describe('agent HTTP service start-up', () => {
  let device: AgentUnderTest;
  before(async () => {
    device = await AgentUnderTest.start('http-start');
  });
  after(async () => {
    await device.close();
  });

  it('a port already in use: the agent exits non-zero with one clear error line', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const agent = device.spawnAgent({ env: { TEDGE_HTTP_BIND_PORT: String(port) } });
      const code = await agent.waitForExit(20_000);
      assert.notEqual(code, 0);
      const errors = errorLines(agent.output);
      assert.equal(errors.length, 1, agent.output);
      assert.match(errors[0] ?? '', new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} \\(http\\.bind\\.address, http\\.bind\\.port\\): the address is already in use`));
    } finally {
      blocker.close();
    }
  });

  it('half a TLS configuration: the agent exits non-zero with one clear error line', async () => {
    const agent = device.spawnAgent({ env: { TEDGE_HTTP_BIND_PORT: String(await freePort()), TEDGE_HTTP_CERT_PATH: device.path('missing.crt') } });
    assert.notEqual(await agent.waitForExit(20_000), 0);
    const errors = errorLines(agent.output);
    assert.equal(errors.length, 1, agent.output);
    assert.match(errors[0] ?? '', /HTTPS needs both http\.cert_path and http\.key_path/);
  });

  it('a child-device agent does not bind: it uses the main device service (http.client.host/port)', async () => {
    const port = await freePort();
    const main = await HttpAgentUnderTest.start({ TEDGE_HTTP_BIND_PORT: String(port) });
    try {
      const probe = await main.probe(['te/device/child1/service/tedge-agent/status/health']);
      const child = main.device.spawnAgent({ args: ['--mqtt-device-topic-id', 'device/child1//'], env: { TEDGE_AGENT_STATE_PATH: join(main.dir, 'child-state') } });
      await probe.waitForText('te/device/child1/service/tedge-agent/status/health', (x) => x.includes('"up"'), 20_000).catch((err: unknown) => {
        throw new Error(`${String(err)}\nchild output:\n${child.output}`);
      });
      assert.equal(child.exited, false);
      assert.doesNotMatch(child.output, /HTTP service listening/);
      // The main agent's service is the one on the port.
      assert.equal((await send(port, 'PUT', '/te/v1/files/from-child', { body: 'x' })).status, 201);
    } finally {
      await main.stop();
    }
  });
});
