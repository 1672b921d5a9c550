import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CloudSimulator } from '../../helpers/cloud-sim';
import { ConnectDevice } from '../../helpers/connect-device';
import { Daemon } from '../../helpers/daemon';
import { Mosquitto, freePort, waitForPort } from '../../helpers/mosquitto';

/**
 * The tenant's certificate authority: `tedge cert download c8y` enrolls with a one-time password (EST
 * simpleenroll, polled until the device is registered), `tedge cert renew --ca c8y` re-enrolls through
 * the mapper's proxy; both certificates then connect.
 */
describe('tedge cert download c8y / renew --ca c8y', { timeout: 60_000 }, () => {
  let sim: CloudSimulator;
  let local: Mosquitto;
  let device: ConnectDevice;
  let mapper: Daemon | undefined;

  before(async () => {
    sim = await CloudSimulator.start();
    local = await Mosquitto.start();
    device = ConnectDevice.create(sim, local.port, { TEDGE_C8Y_HTTP: sim.httpEndpoint });
  });
  after(async () => {
    await mapper?.stop();
    device?.remove();
    await local?.stop();
    await sim?.stop();
  });

  it('gives up after --max-timeout while the device is not registered', async () => {
    const run = await device.tedge(['cert', 'download', 'c8y', '--device-id', 'enroll-it-1', '-p', 'otp-1', '--retry-every', '100ms', '--max-timeout', '300ms']);
    assert.equal(run.code, 1, run.out);
    assert.match(run.err, /The device enroll-it-1 is not registered yet on 127\.0\.0\.1:\d+: HTTP 401/);
    assert.match(run.err, /error: Maximum timeout elapsed\. No certificate has been downloaded\n$/);
    assert.equal(existsSync(device.certPath), false);
  });

  it('polls until the device is registered, writes the CA-signed certificate, and connects', async () => {
    setTimeout(() => sim.http.registrations.set('enroll-it-1', 'otp-2'), 400);
    const run = await device.tedge(['cert', 'download', 'c8y', '--device-id', 'enroll-it-1', '--one-time-password', 'otp-2', '--retry-every', '200ms', '--max-timeout', '20s']);
    assert.equal(run.code, 0, run.err);
    assert.match(run.err, /Certificate downloaded successfully/);
    const cert = new X509Certificate(readFileSync(device.certPath));
    assert.match(cert.subject, /CN=enroll-it-1/);
    assert.match(cert.issuer, /CN=tedge-cloud-sim-ca/);
    assert.match(run.out, /enroll-it-1/);
    const connected = await device.tedge(['connect', 'c8y']);
    assert.equal(connected.code, 0, `${connected.out}\n${connected.err}`);
  });

  it('renews through the proxy of the running mapper; the new certificate is used from the next connection', async () => {
    const proxyPort = await freePort();
    const env = { ...device.env, TEDGE_CONFIG_DIR: device.dir, TEDGE_DATA_PATH: join(device.dir, 'data'), TEDGE_C8Y_PROXY_BIND_PORT: String(proxyPort), TEDGE_C8Y_HTTP: sim.httpEndpoint };
    mapper = Daemon.start('tedge-mapper', ['c8y'], env);
    await waitForPort(proxyPort, 15_000);
    const before = new X509Certificate(readFileSync(device.certPath)).serialNumber;
    const renewed = await device.tedge(['cert', 'renew', 'c8y', '--ca', 'c8y'], { TEDGE_C8Y_PROXY_CLIENT_PORT: String(proxyPort) });
    assert.equal(renewed.code, 0, `${renewed.err}\n${mapper.output.slice(-2000)}`);
    assert.match(renewed.out, /New certificate written to .*tedge-certificate\.pem\.new/);
    const candidate = new X509Certificate(readFileSync(`${device.certPath}.new`));
    assert.notEqual(candidate.serialNumber, before);
    assert.match(candidate.issuer, /CN=tedge-cloud-sim-ca/);
    await mapper.stop();
    mapper = undefined;
    const reconnected = await device.tedge(['reconnect', 'c8y']);
    assert.equal(reconnected.code, 0, `${reconnected.out}\n${reconnected.err}`);
    assert.equal(existsSync(`${device.certPath}.new`), false, 'the candidate was promoted');
    assert.equal(new X509Certificate(readFileSync(device.certPath)).serialNumber, candidate.serialNumber);
  });
});
