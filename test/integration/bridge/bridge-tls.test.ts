import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BridgeDevice } from '../../helpers/bridge-device';
import { runCli } from '../../helpers/daemon';

describe('built-in bridge with a self-signed device certificate (tedge cert create)', { timeout: 120_000 }, () => {
  let device: BridgeDevice;

  before(async () => {
    device = await BridgeDevice.start({ deviceId: 'self-signed-dev', noCertificate: true });
    const created = await runCli('tedge', ['cert', 'create', '--device-id', 'self-signed-dev'], device.env);
    assert.equal(created.code, 0, created.stderr);
    device.startMapper();
  });

  after(async () => {
    await device?.stop();
  });

  it('stays down while the cloud does not trust the certificate, and says why', async () => {
    await device.probe.waitFor(() => device.healthStatuses().includes('down'), 'the bridge health');
    await new Promise((r) => setTimeout(r, 1500)); // a few attempts with the 200 ms..1 s back-off
    assert.deepEqual([...new Set(device.healthStatuses())], ['down']);
    assert.match(device.mapper?.output ?? '', /cannot connect to the cloud err="the server 127\.0\.0\.1:\d+ rejected the device certificate [^"]*: its CA is unknown to the server[^"]*"/);
  });

  it('connects at its next attempt once the certificate is uploaded (trusted), without a restart', async () => {
    await device.sim.trustCertificate(readFileSync(join(device.configDir, 'device-certs', 'tedge-certificate.pem'), 'utf8'));
    await device.bridgeUp();
    await device.probe.publish('te/device/main///m/env', '{"t":1}');
    await device.sim.waitFor((r) => r.some((m) => m.topic === 'measurement/measurements/create'), 'telemetry');
  });
});
