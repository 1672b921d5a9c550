import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BusProbe } from '../../helpers/bus-probe';
import { Daemon } from '../../helpers/daemon';
import { Mosquitto } from '../../helpers/mosquitto';

/** The README's main job as a test: agent and mapper together, entities never registered by hand. */
describe('tedge-agent and tedge-mapper c8y together', () => {
  let broker: Mosquitto;
  let probe: BusProbe;
  let daemons: Daemon[];
  let dir: string;

  before(async () => {
    broker = await Mosquitto.start();
    dir = mkdtempSync(join(tmpdir(), 'tedge-e2e-'));
    const env = { TEDGE_CONFIG_DIR: join(dir, 'etc'), TEDGE_MQTT_CLIENT_PORT: String(broker.port), TEDGE_DEVICE_ID: 'e2e', TEDGE_AGENT_STATE_PATH: join(dir, 'agent') };
    probe = await BusProbe.connect(broker.port, ['c8y/#', 'te/+/+/+/+/status/health']);
    daemons = [Daemon.start('tedge-agent', [], env), Daemon.start('tedge-mapper', ['c8y'], env)];
    await probe.waitForText('te/device/main/service/tedge-agent/status/health', (t) => t.includes('"up"'));
    await probe.waitForText('te/device/main/service/tedge-mapper-c8y/status/health', (t) => t.includes('"up"'));
  });

  after(async () => {
    for (const d of daemons) await d.stop();
    await probe.close();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers a service of a new child from its first measurement and converts the measurement', async () => {
    await probe.publish('te/device/pump/service/flow/m/rate', '{"litres":12.5,"time":"2021-04-30T17:03:14Z"}');
    await probe.waitForText('c8y/s/us', (t) => t === '101,e2e:device:pump,pump,thin-edge.io-child,false');
    await probe.waitForText('c8y/s/us/e2e:device:pump', (t) => t === '102,e2e:device:pump:service:flow,service,flow,up');
    const m = await probe.waitForText('c8y/measurement/measurements/create', (t) => t.includes('e2e:device:pump:service:flow'));
    assert.equal(m, '{"externalSource":{"externalId":"e2e:device:pump:service:flow","type":"c8y_Serial"},"type":"rate","time":"2021-04-30T17:03:14Z","litres":{"litres":{"value":12.5}}}');
  });

  it('reports the health of the agent and the mapper as 102 once they are registered', async () => {
    await probe.waitForText('c8y/s/us', (t) => t === '102,e2e:device:main:service:tedge-agent,service,tedge-agent,up');
  });
});
