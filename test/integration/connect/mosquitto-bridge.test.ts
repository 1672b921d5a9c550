import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BusProbe } from '../../helpers/bus-probe';
import { CloudSimulator } from '../../helpers/cloud-sim';
import { ConnectDevice } from '../../helpers/connect-device';
import { Mosquitto } from '../../helpers/mosquitto';

const HEALTH = 'te/device/main/service/mosquitto-c8y-bridge/status/health';

/**
 * mqtt.bridge.built_in=false: `tedge connect c8y` writes a mosquitto bridge, and a real mosquitto that
 * includes `<config-dir>/mosquitto-conf` carries messages both ways between the local bus and the
 * simulated Cumulocity with it.
 */
describe('tedge connect c8y with a mosquitto bridge (mqtt.bridge.built_in=false)', { timeout: 180_000 }, () => {
  let sim: CloudSimulator;
  let local: Mosquitto;
  let device: ConnectDevice;
  let probe: BusProbe | undefined;

  before(async () => {
    sim = await CloudSimulator.start();
    // mqtt.bind.enabled=false: this mosquitto has its own listener, tedge-mosquitto.conf's would clash with it.
    device = ConnectDevice.create(sim, 0, { TEDGE_MQTT_BRIDGE_BUILT_IN: 'false', TEDGE_MQTT_BIND_ENABLED: 'false' });
    mkdirSync(join(device.dir, 'mosquitto-conf'), { recursive: true });
    // As /etc/mosquitto/mosquitto.conf after installation (include_dir). `user root`: the private key
    // is the test user's, mode 0600, and mosquitto would otherwise drop to user `mosquitto`.
    local = await Mosquitto.start({ extraConfig: `user root\ninclude_dir ${join(device.dir, 'mosquitto-conf')}\n` });
    device.env['TEDGE_MQTT_CLIENT_PORT'] = String(local.port);
    await device.createTrustedCertificate(sim, 'connect-it-mosquitto');
  });
  after(async () => {
    await probe?.bus.close();
    await local?.stop();
    await sim?.stop();
    device?.remove();
  });

  it('writes the bridge configuration and starts the services', async () => {
    const run = await device.tedge(['connect', 'c8y']);
    assert.equal(run.code, 0, `${run.out}\n${run.err}`);
    assert.match(run.out, /^\tbridge: +mosquitto$/m);
    assert.match(run.out, /^writing .*c8y-bridge\.conf\.\.\. ok \(mosquitto bridge\)$/m);
    assert.match(run.out, /Connected to Cumulocity \(mosquitto bridge\)\n$/);
    const conf = readFileSync(device.bridgeConf(), 'utf8');
    assert.match(conf, new RegExp(`^address ${sim.mqttEndpoint.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(conf, new RegExp(`^bridge_cafile ${sim.caPath.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(conf, /^remote_clientid connect-it-mosquitto$/m);
    assert.match(conf, /^topic s\/us\/# out 1 c8y\/ ""$/m);
    assert.deepEqual(device.calls(), ['restart mosquitto', 'enable mosquitto', 'start tedge-mapper-c8y', 'enable tedge-mapper-c8y', 'start tedge-agent', 'enable tedge-agent']);
  });

  it('a real mosquitto loading it bridges local messages to the cloud and cloud messages back', async () => {
    // What the recorded `restart mosquitto` stands for.
    await local.restart();
    probe = await BusProbe.connect(local.port, [HEALTH, 'c8y/s/ds', 'c8y/s/dat']);
    await probe.waitForText(HEALTH, (t) => t === '1', 30_000);

    await probe.publish('c8y/s/us', '400,tedge_connect_test,"through the mosquitto bridge"');
    await sim.waitFor((r) => r.some((m) => m.topic === 's/us' && m.payload === '400,tedge_connect_test,"through the mosquitto bridge"'), 'the bridged event', 30_000);

    await sim.publish('s/ds', '510,connect-it-mosquitto');
    assert.equal(await probe.waitForText('c8y/s/ds', (t) => t.startsWith('510,'), 30_000), '510,connect-it-mosquitto');

    // thin-edge's own check of a mosquitto bridge: a JWT request through it.
    await probe.publish('c8y/s/uat', '', { qos: 0 });
    assert.match(await probe.waitForText('c8y/s/dat', (t) => t.startsWith('71,'), 30_000), /^71,[\w-]+\.[\w-]+\.[\w-]*$/);
  });
});
