import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runTedge } from '../../../src/cli/program';
import { CloudSimulator } from '../../helpers/cloud-sim';
import { Daemon } from '../../helpers/daemon';
import { Mosquitto, freePort } from '../../helpers/mosquitto';

/**
 * `tedge-mapper c8y` with basic auth (c8y.auth_method=basic, c8y.credentials_path) and its local proxy
 * served over HTTPS with client certificates required (c8y.proxy.cert_path/key_path/ca_path); `tedge http`
 * as the local client (http.ca_path, http.client.auth.*). No bridge: basic auth needs no MQTT to the cloud.
 */
describe('tedge-mapper c8y: basic auth behind an HTTPS local proxy with client certificates', { timeout: 60_000 }, () => {
  let sim: CloudSimulator;
  let local: Mosquitto;
  let mapper: Daemon;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    sim = await CloudSimulator.start();
    local = await Mosquitto.start();
    dir = mkdtempSync(join(tmpdir(), 'tedge-basic-it-'));
    for (const d of ['device-certs', 'data', 'logs', 'run', 'tmp']) mkdirSync(join(dir, d), { recursive: true });
    sim.issueDeviceCertificate('basic-it', join(dir, 'device-certs', 'tedge-certificate.pem'), join(dir, 'device-certs', 'tedge-private-key.pem'));
    // The local client's certificate, from the same CA the proxy requires client certificates from.
    sim.issueDeviceCertificate('local-client', join(dir, 'client.crt'), join(dir, 'client.key'));
    writeFileSync(join(dir, 'credentials.toml'), '[c8y]\nusername = "t-sim/dev-user"\npassword = "dev-s3cret"\n', { mode: 0o600 });
    sim.http.users.set('dev-user', 'dev-s3cret');
    env = {
      ...sim.deviceEnv(),
      TEDGE_CONFIG_DIR: dir,
      TEDGE_MQTT_CLIENT_PORT: String(local.port),
      TEDGE_MQTT_BRIDGE_BUILT_IN: 'false',
      TEDGE_DATA_PATH: join(dir, 'data'),
      TEDGE_LOGS_PATH: join(dir, 'logs'),
      TEDGE_RUN_PATH: join(dir, 'run'),
      TEDGE_TMP_PATH: join(dir, 'tmp'),
      TEDGE_C8Y_AUTH_METHOD: 'basic',
      TEDGE_C8Y_CREDENTIALS_PATH: join(dir, 'credentials.toml'),
      TEDGE_C8Y_PROXY_BIND_PORT: String(await freePort()),
      TEDGE_C8Y_PROXY_CERT_PATH: join(sim.dir, 'pki', 'server.crt'),
      TEDGE_C8Y_PROXY_KEY_PATH: join(sim.dir, 'pki', 'server.key'),
      TEDGE_C8Y_PROXY_CA_PATH: sim.caPath,
      TEDGE_HTTP_CA_PATH: sim.caPath,
    };
    mapper = Daemon.start('tedge-mapper', ['c8y'], env);
  });
  after(async () => {
    await mapper?.stop();
    await local?.stop();
    await sim?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const tedgeHttp = async (extra: Record<string, string>): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const code = await runTedge(['http', 'get', '/c8y/tenant/currentTenant'], { out: (s) => (out += s), err: (s) => (err += s), env: { ...env, ...extra }, version: '9.9.9' });
    return { code, out, err };
  };

  it('with a client certificate: HTTPS to the proxy, which adds the basic credentials of the credentials file', async () => {
    let got = await tedgeHttp({ TEDGE_HTTP_CLIENT_AUTH_CERT_FILE: join(dir, 'client.crt'), TEDGE_HTTP_CLIENT_AUTH_KEY_FILE: join(dir, 'client.key') });
    // The proxy listens soon after the start.
    for (let i = 0; i < 50 && /ECONNREFUSED/.test(got.err); i++) {
      await new Promise((r) => setTimeout(r, 200));
      got = await tedgeHttp({ TEDGE_HTTP_CLIENT_AUTH_CERT_FILE: join(dir, 'client.crt'), TEDGE_HTTP_CLIENT_AUTH_KEY_FILE: join(dir, 'client.key') });
    }
    assert.equal(got.code, 0, `${got.err}\n${mapper.output}`);
    assert.equal(JSON.parse(got.out).name, 't-sim');
    const upstream = sim.http.requests.filter((r) => r.path === '/tenant/currentTenant');
    assert.ok(upstream.length > 0);
    assert.ok(upstream.every((r) => r.authorization === `Basic ${Buffer.from('t-sim/dev-user:dev-s3cret').toString('base64')}`));
    assert.deepEqual(sim.messages('s/uat'), [], 'no JWT asked for');
  });

  it('without a client certificate the proxy refuses the connection', async () => {
    const refused = await tedgeHttp({});
    assert.equal(refused.code, 1);
    assert.doesNotMatch(refused.out, /t-sim/);
    assert.match(refused.err, /certificate required/);
  });

  it('the password is in no log line', () => {
    assert.equal(mapper.output.includes('dev-s3cret'), false);
  });
});
