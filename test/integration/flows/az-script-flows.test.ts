import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BusProbe } from '../../helpers/bus-probe';
import { Daemon } from '../../helpers/daemon';
import { Mosquitto } from '../../helpers/mosquitto';

const OUT = 'az/messages/events/';
const HEALTH = 'te/device/main/service/tedge-mapper-az/status/health';
const SEQ_FLOW = 'input.mqtt.topics = ["sensors/+"]\nsteps = [{ script = "seq.js" }]\noutput.mqtt.topic = "az/messages/events/"\n';
// A step that keeps its own count (context.script), fails on a payload that is not JSON, and takes 2 ms
// (so that a burst queues in the flow's worker: a stop finds inputs taken and not yet published).
const SEQ_JS = `export function onMessage(m, context) {
  const busy = Date.now() + 2;
  while (Date.now() < busy) {}
  const n = (context.script.get('n') ?? 0) + 1;
  context.script.set('n', n);
  const seq = JSON.parse(new TextDecoder().decode(m.payload)).seq;
  return { topic: 'ignored', payload: JSON.stringify({ seq, n }) };
}`;

// A step of no input emitting on its interval, and one that holds its inputs until its (hourly) onInterval.
const TICK_FLOW = 'input.mqtt.topics = ["tick/in"]\nsteps = [{ script = "tick.js", interval = "300ms" }]\noutput.mqtt.topic = "az/tick"\n';
const TICK_JS = 'export function onMessage(m) { return []; }\nexport function onInterval(time) { return { topic: "x", payload: "tick" }; }';
const HOLD_FLOW = 'input.mqtt.topics = ["hold/in"]\nsteps = [{ script = "hold.js", interval = "1h" }]\noutput.mqtt.topic = "az/held"\n';
const HOLD_JS = `export function onMessage(m, context) {
  context.script.set('held', [...(context.script.get('held') ?? []), new TextDecoder().decode(m.payload)]);
  return [];
}
export function onInterval(time, context) {
  const held = context.script.get('held') ?? [];
  context.script.set('held', []);
  return held.length === 0 ? [] : { topic: 'x', payload: held.join(',') };
}`;
// A builtin-only flow holding a batch younger than its window: released at a stop too.
const GROUP_FLOW = 'input.mqtt.topics = ["group/in"]\nsteps = [{ builtin = "group-measurements", config = { time_window = "1h" } }]\noutput.mqtt.topic = "az/grouped"\n';
const METRICS = 'te/device/main/service/tedge-mapper-az/status/metrics/';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('tedge-mapper az with a JavaScript step in its flows', { timeout: 120_000 }, () => {
  let broker: Mosquitto;
  let probe: BusProbe;
  let mapper: Daemon;
  let configDir: string;
  let flows: string;
  let env: Record<string, string>;
  const seqs = (): number[] => probe.texts(OUT).flatMap((t) => (t.includes('"seq"') ? [(JSON.parse(t) as { seq: number }).seq] : []));
  const startMapper = async (): Promise<void> => {
    const ups = probe.texts(HEALTH).filter((t) => t.includes('"up"')).length;
    mapper = Daemon.start('tedge-mapper', ['az'], env);
    await probe.waitFor(() => probe.texts(HEALTH).filter((t) => t.includes('"up"')).length > ups, `tedge-mapper az up:\n${mapper.output}`);
  };

  before(async () => {
    broker = await Mosquitto.start();
    configDir = mkdtempSync(join(tmpdir(), 'tedge-az-script-flows-it-'));
    flows = join(configDir, 'mappers', 'az', 'flows');
    mkdirSync(flows, { recursive: true });
    writeFileSync(join(flows, 'seq.toml'), SEQ_FLOW);
    writeFileSync(join(flows, 'seq.js'), SEQ_JS);
    for (const [name, text] of Object.entries({ 'tick.toml': TICK_FLOW, 'tick.js': TICK_JS, 'hold.toml': HOLD_FLOW, 'hold.js': HOLD_JS, 'group.toml': GROUP_FLOW })) writeFileSync(join(flows, name), text);
    env = { TEDGE_CONFIG_DIR: configDir, TEDGE_MQTT_CLIENT_PORT: String(broker.port), TEDGE_DATA_PATH: join(configDir, 'data'), TEDGE_FLOWS_STATS_INTERVAL: '1s' };
    probe = await BusProbe.connect(broker.port, ['az/#', 'te/errors', HEALTH, `${METRICS}+`]);
    await startMapper();
  });

  after(async () => {
    await mapper.stop();
    await probe.close();
    await broker.stop();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('maps through the step; a step that throws is reported on te/errors and the flow goes on', async () => {
    await probe.publish('sensors/a', 'not json', { qos: 1 });
    assert.match(await probe.waitForText('te/errors'), /^Flow 'seq', step 'seq\.js', on a message of topic 'sensors\/a': .*JSON/);
    await probe.publish('sensors/a', '{"seq":-1}', { qos: 1 });
    assert.equal(await probe.waitForText(OUT, (t) => t.includes('"seq":-1')), '{"seq":-1,"n":2}');
  });

  it("calls a step's onInterval, publishes the flows' statistics every flows.stats.interval, and a SIGTERM releases what a step holds", async () => {
    await probe.waitFor(() => probe.texts('az/tick').length >= 3, `three ticks on az/tick:\n${mapper.output}`);
    await probe.publish('hold/in', 'a', { qos: 1 });
    await probe.publish('hold/in', 'b', { qos: 1 });
    await probe.publish('group/in', '{"x":1}', { qos: 1 });
    await probe.publish('group/in', '{"y":2}', { qos: 1 });
    const held = (): Record<string, unknown> | undefined => probe.texts(`${METRICS}hold.toml`).map((t) => JSON.parse(t) as Record<string, unknown>).find((r) => r['input'] === 2);
    await probe.waitFor(() => held() !== undefined, `the statistics of hold.toml count both inputs:\n${mapper.output}`);
    assert.deepEqual(held(), { type: 'flow', input: 2, output: 0, error: 0 });
    const seq = JSON.parse(probe.texts(`${METRICS}seq.toml`).at(-1) as string) as Record<string, unknown>;
    assert.equal(seq['type'], 'flow');
    assert.ok((seq['input'] as number) >= 2 && (seq['error'] as number) >= 1, JSON.stringify(seq));
    assert.deepEqual(probe.texts('az/held'), []);
    assert.deepEqual(probe.texts('az/grouped'), []);
    assert.equal(await mapper.stop('SIGTERM'), 0, mapper.output);
    await probe.waitFor(() => probe.texts('az/held').length > 0, `released by the final onInterval:\n${mapper.output}`, 3000);
    assert.deepEqual(probe.texts('az/held'), ['a,b']);
    assert.deepEqual(probe.texts('az/grouped').map((t) => Object.keys(JSON.parse(t) as object).sort()), [['time', 'x', 'y']], 'the young batch of group-measurements');
    await startMapper();
  });

  for (const [signal, from] of [['SIGTERM', 0], ['SIGKILL', 1000]] as const) {
    it(`a ${signal} in the middle of a burst loses nothing: an input is acknowledged only once its outputs are published`, async (t) => {
      const N = 600;
      const mapped = (): number => new Set(seqs().filter((s) => s >= from && s < from + N)).size;
      const publishing = (async () => {
        for (let i = from; i < from + N; i++) {
          await probe.publish('sensors/seq', JSON.stringify({ seq: i }), { qos: 1 });
          if (i % 10 === 0) await sleep(2); // a burst, long enough to be cut
        }
      })();
      await probe.waitFor(() => mapped() >= 100, 'the burst under way');
      const code = await mapper.stop(signal);
      const atStop = mapped();
      if (signal === 'SIGTERM') assert.equal(code, 0, mapper.output);
      await startMapper();
      await publishing;
      await probe.waitFor(() => mapped() >= N, `all ${N} inputs mapped:\n${mapper.output}`, 30_000);
      t.diagnostic(`${signal} after ${atStop} of ${N} mapped; ${seqs().filter((s) => s >= from && s < from + N).length - N} duplicates`);
      assert.ok(atStop < N, 'stopped mid-burst');
    });
  }

  it('a flow added while the mapper runs: its new input topic is subscribed and mapped; a broken file is reported on te/errors', async () => {
    writeFileSync(join(flows, 'other.toml'), 'input.mqtt.topics = ["other/+"]\nsteps = [{ script = "seq.js" }]\noutput.mqtt.topic = "az/other"\n');
    const deadline = Date.now() + 15_000;
    while (probe.texts('az/other').length === 0) {
      assert.ok(Date.now() < deadline, `the new flow was not loaded:\n${mapper.output}`);
      await probe.publish('other/x', '{"seq":1}', { qos: 1 });
      await sleep(300);
    }
    assert.equal(probe.texts('az/other')[0], '{"seq":1,"n":1}');
    writeFileSync(join(flows, 'broken.toml'), 'steps = [');
    const error = await probe.waitForText('te/errors', (e) => e.includes('broken.toml'), 15_000);
    assert.ok(error.startsWith(`Flow ${join(flows, 'broken.toml')} cannot be loaded: `), error);
  });
});
