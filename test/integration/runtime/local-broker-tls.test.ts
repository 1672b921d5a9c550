import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { agentEnv } from '../../helpers/agent-env';
import { SimPki } from '../../helpers/cloud-sim/pki';
import { Daemon, runCli } from '../../helpers/daemon';
import { Mosquitto } from '../../helpers/mosquitto';

/**
 * A local mosquitto that accepts only TLS clients with a certificate of its CA (and the identity as the
 * user name): the CLI and the daemons reach it through mqtt.client.auth.* alone.
 */
describe('a local broker requiring TLS client certificates', { timeout: 60_000 }, () => {
  let dir: string;
  let broker: Mosquitto;
  let env: Record<string, string>;
  const daemons: Daemon[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-local-tls-'));
    chmodSync(dir, 0o755); // mosquitto started as root reads its certificates as user mosquitto
    const pki = SimPki.create(join(dir, 'pki'));
    pki.issueDeviceCertificate('tedge-local-client', join(dir, 'client.crt'), join(dir, 'client.key'));
    broker = await Mosquitto.start({
      extraConfig: [`cafile ${pki.caCert}`, `certfile ${pki.serverCert}`, `keyfile ${pki.serverKey}`, 'require_certificate true', 'use_identity_as_username true'].join('\n'),
    });
    env = {
      ...(await agentEnv(dir, broker.port)),
      TEDGE_MQTT_CLIENT_AUTH_CA_FILE: pki.caCert,
      TEDGE_MQTT_CLIENT_AUTH_CERT_FILE: join(dir, 'client.crt'),
      TEDGE_MQTT_CLIENT_AUTH_KEY_FILE: join(dir, 'client.key'),
    };
  });
  after(async () => {
    for (const d of daemons) await d.stop();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tedge mqtt pub and sub work with the client certificate', async () => {
    assert.deepEqual(await runCli('tedge', ['mqtt', 'pub', '-r', 'tls/hello', 'over TLS'], env), { code: 0, stdout: '', stderr: '' });
    assert.deepEqual(await runCli('tedge', ['mqtt', 'sub', '-C', '1', 'tls/hello'], env), { code: 0, stdout: '[tls/hello] over TLS\n', stderr: '' });
  });

  it('without the client certificate, or without TLS, the broker refuses the CLI', async () => {
    const noCert = { ...env, TEDGE_MQTT_CLIENT_AUTH_CERT_FILE: '', TEDGE_MQTT_CLIENT_AUTH_KEY_FILE: '' };
    const refused = await runCli('tedge', ['mqtt', 'pub', '--connection-timeout', '3s', 'tls/x', 'y'], noCert);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: cannot connect to the MQTT broker/);
    const plain = await runCli('tedge', ['mqtt', 'pub', '--connection-timeout', '3s', 'tls/x', 'y'], { ...noCert, TEDGE_MQTT_CLIENT_AUTH_CA_FILE: '' });
    assert.equal(plain.code, 1);
  });

  it('a certificate without a CA is refused in one line before connecting', async () => {
    const run = await runCli('tedge', ['mqtt', 'pub', 'tls/x', 'y'], { ...env, TEDGE_MQTT_CLIENT_AUTH_CA_FILE: '' });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^error: mqtt\.client\.auth\.cert_file is set but neither mqtt\.client\.auth\.ca_file nor ca_dir/);
  });

  it('the agent and a mapper connect, report up, and serve the bus', async () => {
    daemons.push(Daemon.start('tedge-agent', [], env), Daemon.start('tedge-mapper', ['collectd'], env));
    for (const service of ['tedge-agent', 'tedge-mapper-collectd']) {
      const run = await runCli('tedge', ['mqtt', 'sub', '-C', '1', '-W', '20', `te/device/main/service/${service}/status/health`], env, 25_000);
      assert.match(run.stdout, /"status":"up"/, `${service}: ${run.stderr}\n${daemons.map((d) => d.output).join('\n')}`);
    }
    for (const d of daemons) assert.match(d.output, /connected to the local MQTT broker host=127\.0\.0\.1 port=\d+ tls=true/);
    // The mapper maps collectd input published over TLS.
    const sub = Daemon.start('tedge', ['mqtt', 'sub', '-C', '1', 'te/device/main///m/'], env);
    daemons.push(sub);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await runCli('tedge', ['mqtt', 'pub', 'collectd/host/cpu/user', '1700000000:42'], env)).code, 0);
    await sub.waitForOutput(/\[te\/device\/main\/\/\/m\/\] .*"cpu":\{"user":42\}/, 10_000);
  });

  it('a password file goes with the user name', async () => {
    writeFileSync(join(dir, 'password'), 'secret\n');
    // The broker takes the certificate's identity as the user; a user name and password do not stop it.
    const run = await runCli('tedge', ['mqtt', 'pub', 'tls/pw', 'p'], { ...env, TEDGE_MQTT_CLIENT_AUTH_USERNAME: 'someone', TEDGE_MQTT_CLIENT_AUTH_PASSWORD_FILE: join(dir, 'password') });
    assert.equal(run.code, 0, run.stderr);
  });
});
