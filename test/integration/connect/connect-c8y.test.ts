import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CloudSimulator } from '../../helpers/cloud-sim';
import { assertOneErrorLine, ConnectDevice } from '../../helpers/connect-device';
import { runCli } from '../../helpers/daemon';
import { freePort, Mosquitto } from '../../helpers/mosquitto';

/**
 * `tedge connect c8y` against the cloud simulator (an mTLS mosquitto answering as Cumulocity), with a
 * real local mosquitto to wait for and service commands that only record what they were asked.
 */
describe('tedge connect c8y against the cloud simulator', { timeout: 180_000 }, () => {
  let sim: CloudSimulator;
  let local: Mosquitto;
  const devices: ConnectDevice[] = [];
  const newDevice = (env: Record<string, string> = {}): ConnectDevice => {
    const d = ConnectDevice.create(sim, local.port, env);
    devices.push(d);
    return d;
  };

  before(async () => {
    sim = await CloudSimulator.start();
    local = await Mosquitto.start();
  });
  after(async () => {
    for (const d of devices) d.remove();
    await local?.stop();
    await sim?.stop();
  });

  describe('connect, --test, disconnect', () => {
    let device: ConnectDevice;
    before(async () => {
      device = newDevice();
      await device.createTrustedCertificate(sim, 'connect-it-1');
    });

    it('connects: JWT round trip, device created with 100, built-in bridge file, services started through system.toml', async () => {
      // As a process, the way a user runs it.
      const run = await runCli('tedge', ['connect', 'c8y'], { ...device.env, TEDGE_CONFIG_DIR: device.dir }, 60_000);
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
      assert.equal(run.stderr, '');
      assert.match(run.stdout, /^Connecting to Cumulocity with:\n\tdevice id: +connect-it-1\n/);
      assert.match(run.stdout, /^\tbridge: +built-in$/m);
      assert.match(run.stdout, /^checking the connection \(JWT request on s\/uat, 71 on s\/dat\)\.\.\. ok \(JWT received\)$/m);
      assert.match(run.stdout, /^creating the device in Cumulocity\.\.\. ok \(100 sent on s\/us: 100,connect-it-1,thin-edge\.io\)$/m);
      assert.doesNotMatch(run.stdout, /warning/);
      assert.match(run.stdout, /Connected to Cumulocity\n$/);
      await sim.waitFor(() => sim.c8y.devices.some((d) => d.id === 'connect-it-1'), 'the device creation');
      assert.deepEqual(sim.c8y.devices.find((d) => d.id === 'connect-it-1'), { id: 'connect-it-1', type: 'thin-edge.io' });
      assert.equal(readFileSync(device.bridgeConf(), 'utf8'), '# This file is left empty as the built-in bridge is enabled\n');
      assert.deepEqual(device.calls(), ['restart mosquitto', 'enable mosquitto', 'start tedge-mapper-c8y', 'enable tedge-mapper-c8y', 'start tedge-agent', 'enable tedge-agent']);
    });

    it('--test reports the connection working, and changes nothing', async () => {
      device.clearCalls();
      const run = await device.tedge(['connect', 'c8y', '--test']);
      assert.equal(run.code, 0, run.err);
      assert.match(run.out, /^checking the connection \(JWT request on s\/uat, 71 on s\/dat\)\.\.\. ok \(JWT received\)$/m);
      assert.match(run.out, /Connection to Cumulocity is working\n$/);
      assert.deepEqual(device.calls(), []);
    });

    it('a second connect is refused while connected', async () => {
      const run = await device.tedge(['connect', 'c8y']);
      assert.equal(run.code, 1);
      assertOneErrorLine(run, /^error: already connected to Cumulocity/);
    });

    it('disconnect removes the bridge file, restarts mosquitto, stops and disables the mapper; a second one has nothing to do', async () => {
      device.clearCalls();
      const run = await device.tedge(['disconnect', 'c8y']);
      assert.equal(run.code, 0, run.err);
      assert.equal(existsSync(device.bridgeConf()), false);
      assert.deepEqual(device.calls(), ['restart mosquitto', 'stop tedge-mapper-c8y', 'disable tedge-mapper-c8y']);
      const again = await device.tedge(['disconnect', 'c8y']);
      assert.equal(again.code, 0);
      assert.match(again.out, /^Not connected to Cumulocity/);
      assert.deepEqual(device.calls(), ['restart mosquitto', 'stop tedge-mapper-c8y', 'disable tedge-mapper-c8y']);
      const test = await device.tedge(['connect', 'c8y', '--test']);
      assert.equal(test.code, 1);
      assertOneErrorLine(test, /^error: not connected to Cumulocity/);
    });
  });

  describe('failures: one line naming the layer, nothing written, no service touched', () => {
    let device: ConnectDevice;
    let silent: Server;
    let silentPort: number;
    const sockets: Socket[] = [];

    before(async () => {
      device = newDevice();
      await device.createTrustedCertificate(sim, 'connect-it-2');
      // Accepts TCP and never answers: neither a TLS handshake nor a CONNACK comes.
      silent = createServer((s) => sockets.push(s));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      silentPort = (silent.address() as { port: number }).port;
    });
    after(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });

    async function failsWith(env: Record<string, string>, pattern: RegExp, args: readonly string[] = ['connect', 'c8y']): Promise<void> {
      device.clearCalls();
      const run = await device.tedge(args, env);
      assert.equal(run.code, 1, run.out);
      assertOneErrorLine(run, pattern);
      assert.match(run.out, /\.\.\. failed\n$/);
      assert.equal(existsSync(device.bridgeConf()), false);
      assert.deepEqual(device.calls(), []);
    }

    it('unknown host name → DNS', async () => {
      await failsWith({ TEDGE_C8Y_MQTT: 'no-such-host.invalid:8883' }, /^error: DNS lookup failed: cannot resolve 'no-such-host\.invalid' \((ENOTFOUND|EAI_AGAIN)\); check c8y\.mqtt/);
    });

    it('nothing listening → TCP', async () => {
      const port = await freePort();
      await failsWith({ TEDGE_C8Y_MQTT: `127.0.0.1:${port}` }, new RegExp(`^error: TCP connection to 127\\.0\\.0\\.1:${port} failed: connection refused, nothing listens there \\(ECONNREFUSED\\)`));
    });

    it('a CA that did not sign the server certificate → TLS handshake, untrusted server', async () => {
      const otherCa = join(device.dir, 'other-ca.pem');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(device.dir, 'other-ca.key'), '-out', otherCa, '-days', '2', '-subj', '/CN=another-ca'], { stdio: 'ignore' });
      await failsWith({ TEDGE_C8Y_ROOT_CERT_PATH: otherCa }, new RegExp(`^error: TLS handshake failed: the server ${sim.mqttEndpoint.replace(/\./g, '\\.')} is not trusted: .*; check c8y\\.root_cert_path \\(${otherCa.replace(/\./g, '\\.')}\\)$`));
    });

    it('a certificate the cloud does not trust → certificate rejected', async () => {
      const untrusted = newDevice();
      assert.equal((await untrusted.tedge(['cert', 'create', '--device-id', 'connect-it-untrusted'])).code, 0);
      const run = await untrusted.tedge(['connect', 'c8y']);
      assert.equal(run.code, 1);
      assertOneErrorLine(run, /^error: certificate rejected: the server .* rejected the device certificate .*tedge-certificate\.pem: .*; is it trusted by the cloud \(tedge cert upload\)\?$/);
      assert.equal(existsSync(untrusted.bridgeConf()), false);
      assert.deepEqual(untrusted.calls(), []);
    });

    it('a server that never answers → timeout (--timeout)', async () => {
      const started = Date.now();
      await failsWith({ TEDGE_C8Y_MQTT: `127.0.0.1:${silentPort}` }, new RegExp(`^error: timeout: no MQTT session with 127\\.0\\.0\\.1:${silentPort} \\(TLS handshake or CONNACK\\) within 1 s$`), ['connect', 'c8y', '--timeout', '1s']);
      assert.ok(Date.now() - started < 8_000, 'the timeout is the one given');
    });

    it('--test fails the same way', async () => {
      assert.equal((await device.tedge(['connect', 'c8y', '--offline'])).code, 0);
      const test = await device.tedge(['connect', 'c8y', '--test'], { TEDGE_C8Y_MQTT: 'no-such-host.invalid:8883' });
      assert.equal(test.code, 1);
      assertOneErrorLine(test, /^error: DNS lookup failed/);
      assert.equal((await device.tedge(['disconnect', 'c8y'])).code, 0);
    });
  });

  describe('two-phase certificate renewal (§3.2 step 4)', () => {
    it('a renewed certificate the cloud accepts is tried first and promoted', async () => {
      const device = newDevice();
      await device.createTrustedCertificate(sim, 'connect-it-renew-1');
      const old = readFileSync(device.certPath, 'utf8');
      // Another subject: OpenSSL (the simulator's mosquitto) cannot tell apart two trusted self-signed
      // certificates with the same subject and key, and would only ever find the first.
      assert.equal((await device.tedge(['config', 'set', 'certificate.organization', 'Renewed'])).code, 0);
      assert.equal((await device.tedge(['cert', 'renew'])).code, 0);
      const candidate = readFileSync(`${device.certPath}.new`, 'utf8');
      assert.notEqual(candidate, old);
      await sim.trustCertificate(candidate);
      const run = await device.tedge(['connect', 'c8y']);
      assert.equal(run.code, 0, run.err);
      assert.match(run.out, /^connecting to .* with the new certificate .*tedge-certificate\.pem\.new\.\.\. ok$/m);
      assert.match(run.out, /^replacing .*tedge-certificate\.pem with the new certificate\.\.\. ok$/m);
      assert.equal(readFileSync(device.certPath, 'utf8'), candidate);
      assert.equal(existsSync(`${device.certPath}.new`), false);
      assert.equal(existsSync(device.bridgeConf()), true);
    });

    it('a renewed certificate the cloud refuses: connected with the current one, exit 3, the candidate kept', async () => {
      const device = newDevice();
      await device.createTrustedCertificate(sim, 'connect-it-renew-2');
      const old = readFileSync(device.certPath, 'utf8');
      // Another subject (as above), and not uploaded to the cloud.
      assert.equal((await device.tedge(['config', 'set', 'certificate.organization', 'Not Uploaded'])).code, 0);
      assert.equal((await device.tedge(['cert', 'renew'])).code, 0);
      const run = await device.tedge(['connect', 'c8y']);
      assert.equal(run.code, 3, `${run.out}\n${run.err}`);
      assert.match(run.out, /^connecting to .* with the new certificate .*\.new\.\.\. failed: certificate rejected: /m);
      assert.match(run.out, /^checking the connection .*\.\.\. ok \(JWT received\)$/m);
      assertOneErrorLine(run, /^error: connected with the current certificate; the new certificate .*tedge-certificate\.pem\.new was not used: certificate rejected: /);
      assert.equal(readFileSync(device.certPath, 'utf8'), old);
      assert.equal(existsSync(`${device.certPath}.new`), true);
      assert.equal(existsSync(device.bridgeConf()), true);
    });
  });
});
