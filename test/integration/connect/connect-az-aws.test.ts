import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CloudSimulator } from '../../helpers/cloud-sim';
import { assertOneErrorLine, ConnectDevice } from '../../helpers/connect-device';
import { Mosquitto } from '../../helpers/mosquitto';

/**
 * `tedge connect az|aws` against the simulator's mTLS endpoint standing in for the IoT hub / IoT Core:
 * Azure's check is a twin request the broker acknowledges, AWS's a test message echoed to its
 * publisher (as AWS IoT does for a subscribed client).
 */
describe('tedge connect az and aws against the simulator', { timeout: 180_000 }, () => {
  let sim: CloudSimulator;
  let local: Mosquitto;
  let device: ConnectDevice;

  before(async () => {
    sim = await CloudSimulator.start();
    local = await Mosquitto.start();
    device = ConnectDevice.create(sim, local.port);
    await device.createTrustedCertificate(sim, 'connect-it-az-aws');
  });
  after(async () => {
    await local?.stop();
    await sim?.stop();
    device?.remove();
  });

  it('az: the twin request is acknowledged; the mapper is started, no agent; no device creation', async () => {
    const run = await device.tedge(['connect', 'az']);
    assert.equal(run.code, 0, `${run.out}\n${run.err}`);
    assert.match(run.out, /^Connecting to Azure IoT Hub with:\n/);
    assert.match(run.out, /^checking the connection \(twin request\)\.\.\. ok \(twin request acknowledged\)$/m);
    assert.doesNotMatch(run.out, /creating the device/);
    assert.equal(readFileSync(device.bridgeConf('az'), 'utf8'), '# This file is left empty as the built-in bridge is enabled\n');
    assert.deepEqual(device.calls(), ['restart mosquitto', 'enable mosquitto', 'start tedge-mapper-az', 'enable tedge-mapper-az']);
  });

  it('aws: the test message comes back on the test topic', async () => {
    device.clearCalls();
    const run = await device.tedge(['connect', 'aws']);
    assert.equal(run.code, 0, `${run.out}\n${run.err}`);
    assert.match(run.out, /^checking the connection \(test message echo\)\.\.\. ok \(test message echoed on thinedge\/devices\/connect-it-az-aws\/test-connection\)$/m);
    await sim.waitFor((r) => r.some((m) => m.topic === 'thinedge/devices/connect-it-az-aws/test-connection'), 'the test message');
    assert.deepEqual(device.calls(), ['restart mosquitto', 'enable mosquitto', 'start tedge-mapper-aws', 'enable tedge-mapper-aws']);
  });

  it('--test for both, then disconnect each: only its own bridge file goes', async () => {
    for (const cloud of ['az', 'aws']) {
      const test = await device.tedge(['connect', cloud, '--test']);
      assert.equal(test.code, 0, `${test.out}\n${test.err}`);
    }
    device.clearCalls();
    assert.equal((await device.tedge(['disconnect', 'az'])).code, 0);
    assert.equal(existsSync(device.bridgeConf('az')), false);
    assert.equal(existsSync(device.bridgeConf('aws')), true);
    assert.deepEqual(device.calls(), ['restart mosquitto', 'stop tedge-mapper-az', 'disable tedge-mapper-az']);
    assert.equal((await device.tedge(['disconnect', 'aws'])).code, 0);
    assert.equal(existsSync(device.bridgeConf('aws')), false);
  });

  it('aws with a certificate the cloud does not trust → certificate rejected', async () => {
    const other = ConnectDevice.create(sim, local.port);
    try {
      assert.equal((await other.tedge(['cert', 'create', '--device-id', 'connect-it-aws-untrusted'])).code, 0);
      const run = await other.tedge(['connect', 'aws']);
      assert.equal(run.code, 1);
      assertOneErrorLine(run, /^error: certificate rejected: /);
    } finally {
      other.remove();
    }
  });
});
