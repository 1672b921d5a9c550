import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CloudSimulator } from '../../helpers/cloud-sim';
import { ConnectDevice } from '../../helpers/connect-device';
import { Mosquitto } from '../../helpers/mosquitto';

/**
 * `tedge cert upload c8y` against a simulated tenant that trusts no device certificate: the refused
 * connection first, then the upload (tenant lookup + trusted-certificates with basic auth), then
 * `tedge connect c8y` succeeds.
 */
describe('tedge cert upload c8y', { timeout: 60_000 }, () => {
  let sim: CloudSimulator;
  let local: Mosquitto;
  let device: ConnectDevice;

  before(async () => {
    sim = await CloudSimulator.start();
    local = await Mosquitto.start();
    device = ConnectDevice.create(sim, local.port, { TEDGE_C8Y_HTTP: sim.httpEndpoint });
    sim.http.users.set('admin', 's3cret-pass');
    writeFileSync(join(device.dir, 'password'), 's3cret-pass\n', { mode: 0o600 });
  });
  after(async () => {
    device?.remove();
    await local?.stop();
    await sim?.stop();
  });

  it('a device whose certificate is not trusted cannot connect', async () => {
    const created = await device.tedge(['cert', 'create', '--device-id', 'upload-it-1']);
    assert.equal(created.code, 0, created.err);
    const refused = await device.tedge(['connect', 'c8y', '--timeout', '5s']);
    assert.equal(refused.code, 1, refused.out);
    assert.match(refused.err, /certificate/i);
  });

  it('wrong credentials: one error line naming the 401, nothing trusted, the password not shown', async () => {
    writeFileSync(join(device.dir, 'wrong'), 'nope\n');
    const run = await device.tedge(['cert', 'upload', 'c8y', '--user', 'admin', '--password-file', join(device.dir, 'wrong')]);
    assert.equal(run.code, 1);
    assert.match(run.err, /^error: GET \/tenant\/currentTenant on Cumulocity failed: HTTP 401/);
    assert.equal(run.err.includes('nope'), false);
    assert.equal(sim.http.trustedCertificates.size, 0);
  });

  it('uploads the certificate to the tenant; tedge connect c8y then succeeds', async () => {
    const up = await device.tedge(['cert', 'upload', 'c8y', '--user', 'admin', '--password-file', join(device.dir, 'password')]);
    assert.equal(up.code, 0, up.err);
    assert.equal(up.out, 'Device certificate uploaded successfully.\n');
    assert.equal(sim.http.trustedCertificates.get('upload-it-1'), readFileSync(device.certPath, 'utf8').trim());
    const auth = sim.http.requests.find((r) => r.path.endsWith('/trusted-certificates'))?.authorization;
    assert.equal(auth, `Basic ${Buffer.from('admin:s3cret-pass').toString('base64')}`);

    const connected = await device.tedge(['connect', 'c8y']);
    assert.equal(connected.code, 0, `${connected.out}\n${connected.err}`);
    assert.match(connected.out, /Connected to Cumulocity\n$/);
  });

  it('again: already there (409) is not an error; the password may come from C8Y_PASSWORD', async () => {
    const again = await device.tedge(['cert', 'upload', 'c8y', '--user', 'admin'], { C8Y_PASSWORD: 's3cret-pass' });
    assert.equal(again.code, 0, again.err);
    assert.equal(again.out, 'Device certificate already exists in the cloud.\n');
  });

  it('no password and no terminal: a usage error, not a hang', async () => {
    const run = await device.tedge(['cert', 'upload', 'c8y', '--user', 'admin'], { C8Y_PASSWORD: '' });
    assert.equal(run.code, 2);
    assert.match(run.err, /^error: Enter password is needed and stdin is not a terminal/);
  });
});
