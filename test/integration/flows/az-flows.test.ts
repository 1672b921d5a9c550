import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BusProbe } from '../../helpers/bus-probe';
import { Daemon } from '../../helpers/daemon';
import { Mosquitto } from '../../helpers/mosquitto';

const EDITED = `input.mqtt.topics = ["te/+/+/+/+/m/+"]
steps = [
  { builtin = "ignore-topics", config = { topics = ["te/device/main///m/debug"] } },
  { builtin = "add-timestamp", config = { format = "rfc3339", reformat = true } },
]
output.mqtt.topic = "az/messages/events/"
`;

describe("tedge-mapper az runs its flows when <config-dir>/mappers/az/flows/ exists", () => {
  let broker: Mosquitto;
  let probe: BusProbe;
  let mapper: Daemon;
  let configDir: string;
  let flows: string;

  before(async () => {
    broker = await Mosquitto.start();
    configDir = mkdtempSync(join(tmpdir(), 'tedge-az-flows-it-'));
    flows = join(configDir, 'mappers', 'az', 'flows');
    mkdirSync(flows, { recursive: true });
    // A flow the user edited (it differs from the template the mapper wrote before): kept as it is.
    writeFileSync(join(flows, 'mea.toml'), EDITED);
    writeFileSync(join(flows, 'mea.toml.template'), 'an older template\n');
    probe = await BusProbe.connect(broker.port, ['az/#', 'te/errors', 'te/device/main/service/tedge-mapper-az/status/health']);
    mapper = Daemon.start('tedge-mapper', ['az'], { TEDGE_CONFIG_DIR: configDir, TEDGE_MQTT_CLIENT_PORT: String(broker.port) });
    await probe.waitForText('te/device/main/service/tedge-mapper-az/status/health', (t) => t.includes('"up"'));
  });

  after(async () => {
    await mapper.stop();
    await probe.close();
    await broker.stop();
    rmSync(configDir, { recursive: true, force: true });
  });

  it("keeps the user's edited flow, refreshes the template, and maps through the edited steps", async () => {
    assert.equal(readFileSync(join(flows, 'mea.toml'), 'utf8'), EDITED);
    assert.match(readFileSync(join(flows, 'mea.toml.template'), 'utf8'), /builtin = "skip-mosquitto-health-status"/);
    await probe.publish('te/device/main///m/debug', '{"x":1}');
    await probe.publish('te/device/main///m/env', '{"t":1,"time":1754570846}');
    const out = await probe.waitForText('az/messages/events/');
    assert.equal(out, '{"t":1,"time":"2025-08-07T12:47:26Z"}');
    // The edited flow has no require-json-object step: add-timestamp passes what is not a JSON object, as thin-edge's does.
    await probe.publish('te/device/main///m/env', 'nope');
    await probe.waitForText('az/messages/events/', (t) => t === 'nope');
    assert.deepEqual(probe.texts('az/messages/events/'), [out, 'nope'], 'the ignored topic sent nothing');
    assert.deepEqual(probe.texts('te/errors'), []);
  });

  it('reloads the flow when the user edits it again while the mapper runs', async () => {
    writeFileSync(join(flows, 'mea.toml'), EDITED.replace('"te/device/main///m/debug"', '"te/device/main///m/env"'));
    const deadline = Date.now() + 15_000;
    while (probe.texts('az/messages/events/').every((t) => !t.includes('"debug"'))) {
      assert.ok(Date.now() < deadline, `the edit was not reloaded:\n${mapper.output}`);
      await probe.publish('te/device/main///m/debug', '{"debug":1}');
      await new Promise((r) => setTimeout(r, 300));
    }
    const sent = probe.texts('az/messages/events/').length;
    await probe.publish('te/device/main///m/env', '{"t":2}');
    await probe.publish('te/device/main///m/debug', '{"debug":2}');
    await probe.waitForText('az/messages/events/', (t) => t.includes('"debug":2'));
    assert.ok(!probe.texts('az/messages/events/').slice(sent).some((t) => t.includes('"t":2')), 'te/device/main///m/env is now ignored');
  });
});
