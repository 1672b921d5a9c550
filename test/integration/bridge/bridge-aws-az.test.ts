import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BusProbe } from '../../helpers/bus-probe';
import { CloudSimulator } from '../../helpers/cloud-sim';
import { Daemon } from '../../helpers/daemon';
import { Mosquitto } from '../../helpers/mosquitto';

/**
 * The AWS and Azure mappers carry their built-in bridge too: their rules (§2.3, §2.4) against the
 * simulator's mTLS broker, which accepts any topic and records what the device sends.
 */
for (const cloud of ['aws', 'az'] as const) {
  describe(`tedge-mapper ${cloud} with its built-in bridge`, () => {
    const deviceId = `${cloud}-bridge-it-${process.pid}`;
    let sim: CloudSimulator;
    let broker: Mosquitto;
    let probe: BusProbe;
    let mapper: Daemon;
    let configDir: string;

    before(async () => {
      sim = await CloudSimulator.start();
      broker = await Mosquitto.start();
      configDir = mkdtempSync(join(tmpdir(), `tedge-${cloud}-bridge-it-`));
      mkdirSync(join(configDir, 'device-certs'));
      sim.issueDeviceCertificate(deviceId, join(configDir, 'device-certs', 'tedge-certificate.pem'), join(configDir, 'device-certs', 'tedge-private-key.pem'));
      const prefix = cloud.toUpperCase();
      const env = {
        TEDGE_CONFIG_DIR: configDir,
        TEDGE_MQTT_CLIENT_PORT: String(broker.port),
        TEDGE_DATA_PATH: join(configDir, 'data'),
        [`TEDGE_${prefix}_URL`]: '127.0.0.1',
        [`TEDGE_${prefix}_MQTT`]: sim.mqttEndpoint,
        [`TEDGE_${prefix}_ROOT_CERT_PATH`]: sim.caPath,
      };
      const health = `te/device/main/service/tedge-mapper-bridge-${cloud}/status/health`;
      probe = await BusProbe.connect(broker.port, [health]);
      mapper = Daemon.start('tedge-mapper', [cloud], env);
      await probe.waitForText(health, (t) => t.includes('"up"'), 30_000);
    });

    after(async () => {
      await mapper.stop();
      await probe.close();
      await broker.stop();
      await sim.stop();
      rmSync(configDir, { recursive: true, force: true });
    });

    it('delivers a measurement to the cloud topic of its rules', async () => {
      await probe.publish('te/device/main///m/env', '{"temperature":21.5,"time":"2021-04-30T17:03:14Z"}');
      const topic = cloud === 'aws' ? `thinedge/${deviceId}/td/device:main/m/env` : `devices/${deviceId}/messages/events/`;
      await sim.waitFor((all) => all.some((m) => m.topic === topic && m.payload.includes('21.5')), `the measurement on ${topic}`);
      const received = sim.received.find((m) => m.topic === topic && m.payload.includes('21.5'));
      assert.match(received?.payload ?? '', /"temperature":21\.5/);
    });
  });
}
