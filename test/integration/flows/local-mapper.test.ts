import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BusProbe } from '../../helpers/bus-probe';
import { Daemon, runCli } from '../../helpers/daemon';
import { Mosquitto } from '../../helpers/mosquitto';

const SERVICE = 'te/device/main/service/tedge-mapper-local';
const FLOW = `input.mqtt.topics = ["sensors/+"]
[[steps]]
script = "celsius.js"
[[steps]]
builtin = "add-timestamp"
config = { format = "rfc3339" }
`;
const STEP = (version: string) => `
export function onMessage(message, context) {
  const f = JSON.parse(new TextDecoder().decode(message.payload)).fahrenheit;
  if (typeof f !== 'number') throw new Error('no fahrenheit');
  return { topic: 'te/device/main///m/' + message.topic.split('/')[1], payload: JSON.stringify({ temperature: Math.round((f - 32) * 5 / 9), v: '${version}' }) };
}`;

describe('tedge-mapper local on a real mosquitto', () => {
  let broker: Mosquitto;
  let probe: BusProbe;
  let mapper: Daemon;
  let configDir: string;
  let flows: string;
  let env: Record<string, string>;

  before(async () => {
    broker = await Mosquitto.start();
    configDir = mkdtempSync(join(tmpdir(), 'tedge-mapper-local-it-'));
    flows = join(configDir, 'mappers', 'local', 'flows');
    mkdirSync(flows, { recursive: true });
    writeFileSync(join(flows, 'celsius.toml'), FLOW);
    writeFileSync(join(flows, 'celsius.js'), STEP('1'));
    env = { TEDGE_CONFIG_DIR: configDir, TEDGE_MQTT_CLIENT_PORT: String(broker.port), TEDGE_FLOWS_STATS_INTERVAL: '1s' };
    probe = await BusProbe.connect(broker.port, ['te/device/main///m/+', 'te/errors', `${SERVICE}/status/#`]);
    mapper = Daemon.start('tedge-mapper', ['local'], env);
    await probe.waitForText(`${SERVICE}/status/health`, (t) => t.includes('"up"'));
  });

  after(async () => {
    await mapper.stop();
    await probe.close();
    await broker.stop();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('runs the flows of <config-dir>/mappers/local/flows; errors go to te/errors and the flow goes on', async () => {
    await probe.publish('sensors/room', '{"fahrenheit":212}');
    const out = await probe.waitForText('te/device/main///m/room');
    assert.match(out, /^\{"temperature":100,"v":"1","time":"\d{4}-\d\d-\d\dT[\d:.]+Z"\}$/);
    await probe.publish('sensors/room', '{"celsius":1}');
    assert.match(await probe.waitForText('te/errors'), /Flow 'celsius', step 'celsius\.js', on a message of topic 'sensors\/room': no fahrenheit/);
    await probe.publish('sensors/hall', '{"fahrenheit":32}');
    await probe.waitForText('te/device/main///m/hall', (t) => t.includes('"temperature":0'));
  });

  it('publishes per-flow statistics on <service>/status/metrics/<flow>', async () => {
    const stats = await probe.waitForText(`${SERVICE}/status/metrics/celsius.toml`, (t) => t.includes('"input":3'));
    assert.deepEqual(JSON.parse(stats), { type: 'flow', input: 3, output: 2, error: 1 });
  });

  it('reloads a changed step; a broken flow is reported and its previous version keeps running', async () => {
    writeFileSync(join(flows, 'celsius.js'), STEP('2'));
    await mapper.waitForOutput(/flow reloaded/, 10_000);
    await probe.publish('sensors/attic', '{"fahrenheit":50}');
    await probe.waitForText('te/device/main///m/attic', (t) => t.includes('"v":"2"'));
    writeFileSync(join(flows, 'celsius.toml'), FLOW.replace('[[steps]]', '[[steps'));
    assert.match(await probe.waitForText('te/errors', (t) => t.includes('cannot be loaded')), /celsius\.toml cannot be loaded \(its previous version keeps running\): invalid TOML/);
    await probe.publish('sensors/cellar', '{"fahrenheit":41}');
    await probe.waitForText('te/device/main///m/cellar', (t) => t.includes('"temperature":5,"v":"2"'));
  });

  it('tedge flows test gives the output of the running mapper for the same input', async () => {
    writeFileSync(join(flows, 'celsius.toml'), FLOW);
    const run = await runCli('tedge', ['flows', 'test', 'sensors/cellar', '{"fahrenheit":41}'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^\[te\/device\/main\/\/\/m\/cellar\] \{"temperature":5,"v":"2","time":"[^"]+"\}\n$/);
  });

  it('at SIGTERM, a group-measurements batch younger than its window is published before the mapper goes', async () => {
    writeFileSync(join(flows, 'group.toml'), 'input.mqtt.topics = ["grouped/in"]\nsteps = [{ builtin = "group-measurements", config = { time_window = "1h" } }]\noutput.mqtt.topic = "te/device/main///m/grouped"\n');
    await mapper.waitForOutput(/flow loaded flow=group/, 10_000);
    await new Promise((r) => setTimeout(r, 200)); // subscribed right after the flow is loaded
    await probe.publish('grouped/in', '{"a":1}');
    await probe.publish('grouped/in', '{"b":2}');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await mapper.stop(), 0);
    assert.match(await probe.waitForText('te/device/main///m/grouped'), /^\{"a":1,"b":2,"time":[\d.]+\}$/);
  });
});
