import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { MemoryBroker } from '../../../src/bus/memory-bus';
import { type Message, formatLine, message, payloadText } from '../../../src/core/message';
import type { Converter } from '../../../src/core/converter';
import { c8yFlowTomls } from '../../../src/flows/c8y-flows';
import { FlowsConverter } from '../../../src/flows/flows-converter';
import type { FlowStatsSettings } from '../../../src/flows/flow-stats';
import { C8yConverter } from '../../../src/mapper/c8y/converter';
import { silentLogger } from '../../../src/log/logger';
import { MapperRuntime } from '../../../src/mapper/runtime';
import { HealthReporter } from '../../../src/runtime/health';
import { ManualTime } from '../../helpers/manual-time';
import { HOLDING_STEP } from './engine-support';

const SCRIPT_FLOW = 'input.mqtt.topics = ["in/a"]\nsteps = [{ script = "twice.js" }]\n';
// Two outputs per input; 'throw' and 'loop' fail the step (a loop is cut by the call timeout).
const TWICE = `export function onMessage(m) {
  const text = new TextDecoder().decode(m.payload);
  if (text === 'throw') throw new Error('boom');
  if (text === 'loop') for (;;) {}
  return [{ topic: 'out/a', payload: text + '.1' }, { topic: 'out/a', payload: text + '.2' }];
}`;
const INLINE_FLOW = 'input.mqtt.topics = ["in/b"]\nsteps = [{ builtin = "set-topic", config = { topic = "out/b" } }]\n';

const dirs: string[] = [];
const runtimes: MapperRuntime[] = [];

afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.stop(0);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * A built-in mapper's runtime over the flows of `files` (its converter their FlowsConverter, or what `wrap`
 * makes of it), on an in-memory broker; `events` keeps publishes and acks in order.
 */
async function mapper(files: Record<string, string>, wrap: (flows: FlowsConverter) => Converter = (flows) => flows, opts: { stats?: FlowStatsSettings; start?: Date } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mapper-script-flows-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const broker = new MemoryBroker();
  const time = new ManualTime(opts.start ?? new Date('2026-01-02T03:04:05Z'));
  const bus = broker.connect();
  const events: string[] = [];
  const publish = bus.publish.bind(bus);
  bus.publish = async (m: Message) => {
    await publish(m);
    events.push(`pub ${formatLine(m)}`);
  };
  bus.acked.push = (...acked: Message[]) => events.push(...acked.map((m) => `ack ${formatLine(m)}`));
  const health = new HealthReporter(bus, time, { root: 'te', service: 'device/main/service/tedge-mapper-az', device: 'device/main//', timestampFormat: 'unix' }, 7);
  const converter = new FlowsConverter(dir, 'te/errors', {}, { callTimeoutMs: 200, heapMb: 16, stackMb: 1 }, opts.stats);
  const runtime = new MapperRuntime({ name: 'tedge-mapper-az', bus, clock: time, timers: time, converter: wrap(converter), health, logger: silentLogger(), topicRoot: 'te' });
  await runtime.start();
  runtimes.push(runtime);
  const device = broker.connect();
  const lines = (topic: string): string[] => broker.published.filter((m) => m.topic === topic).map(payloadText);
  const send = (topic: string, payload: string): Promise<void> => device.publish(message(topic, payload, { qos: 1 }));
  const until = async (what: string, done: () => boolean): Promise<void> => {
    const deadline = Date.now() + 5000;
    while (!done()) {
      assert.ok(Date.now() < deadline, `${what}; events:\n${events.slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return { dir, time, converter, runtime, events, lines, send, until, acked: () => events.filter((e) => e.startsWith('ack ')).length };
}

describe("a built-in mapper's flows with script steps (run in their worker, under MapperRuntime)", () => {
  it('publishes the outputs of each flow in input order, and acknowledges each input after its outputs', async () => {
    const m = await mapper({ 'a.toml': SCRIPT_FLOW, 'twice.js': TWICE, 'b.toml': INLINE_FLOW });
    const N = 300;
    for (let i = 0; i < N; i++) await m.send(i % 3 === 0 ? 'in/b' : 'in/a', String(i));
    await m.until('every input acknowledged', () => m.acked() === N);
    const published = (topic: string): string[] => m.events.filter((e) => e.startsWith(`pub [${topic}] `)).map((e) => e.slice(`pub [${topic}] `.length));
    const inputs = Array.from({ length: N }, (_, i) => i);
    assert.deepEqual(published('out/a'), inputs.filter((i) => i % 3 !== 0).flatMap((i) => [`${i}.1`, `${i}.2`]), 'the script flow in input order');
    assert.deepEqual(published('out/b'), inputs.filter((i) => i % 3 === 0).map(String), 'the inline flow in input order');
    for (let i = 1; i < N; i += 3) {
      assert.ok(m.events.indexOf(`pub [out/a] ${i}.2`) < m.events.indexOf(`ack [in/a] ${i}`), `input ${i} acknowledged after its outputs`);
    }
  });

  it('reports a throwing and a looping step on te/errors, and the flow goes on', async () => {
    const m = await mapper({ 'a.toml': SCRIPT_FLOW, 'twice.js': TWICE });
    for (const p of ['throw', 'loop', 'ok']) await m.send('in/a', p);
    await m.until('three inputs acknowledged', () => m.acked() === 3);
    const errors = m.lines('te/errors');
    assert.equal(errors.length, 2, errors.join('\n'));
    assert.match(errors[0] as string, /^Flow 'a', step 'twice\.js', on a message of topic 'in\/a': .*boom/);
    assert.match(errors[1] as string, /^Flow 'a', step 'twice\.js', on a message of topic 'in\/a': .*took more than 200 ms/);
    assert.deepEqual(m.lines('out/a'), ['ok.1', 'ok.2']);
  });

  it('a reload subscribes to the topics of a new flow and drops those no flow uses; a broken file is reported on te/errors', async () => {
    const m = await mapper({ 'a.toml': SCRIPT_FLOW, 'twice.js': TWICE, 'b.toml': INLINE_FLOW });
    writeFileSync(join(m.dir, 'c.toml'), 'input.mqtt.topics = ["in/c"]\nsteps = [{ script = "twice.js" }]\noutput.mqtt.topic = "out/c"\n');
    unlinkSync(join(m.dir, 'b.toml'));
    assert.deepEqual(await m.converter.reload(), []);
    assert.ok(m.converter.filters.includes('in/c') && !m.converter.filters.includes('in/b'));
    await new Promise((r) => setTimeout(r, 20)); // the runtime's (un)subscribe
    await m.send('in/c', 'x');
    await m.send('in/b', 'dropped');
    await m.until('in/c converted', () => m.lines('out/c').length === 2);
    assert.deepEqual(m.lines('out/c'), ['x.1', 'x.2']);
    assert.equal(m.runtime.stats.received, 1, 'in/b is no longer subscribed');

    writeFileSync(join(m.dir, 'a.toml'), 'steps = [');
    const errors = await m.converter.reload();
    assert.equal(errors.length, 1);
    const path = join(m.dir, 'a.toml');
    await m.until('the load error on te/errors', () => m.lines('te/errors').length === 1);
    assert.ok((m.lines('te/errors')[0] as string).startsWith(`Flow ${path} cannot be loaded (its previous version keeps running): `), m.lines('te/errors')[0]);
    await m.send('in/a', 'still');
    await m.until('the previous version runs', () => m.lines('out/a').length === 2);
    await m.converter.reload();
    assert.equal(m.lines('te/errors').length, 1, 'the same error is not reported again');

    writeFileSync(join(m.dir, 'a.toml'), SCRIPT_FLOW);
    writeFileSync(join(m.dir, 'twice.js'), 'export function onMessage(m) { return [; }');
    const failed = await m.converter.reload();
    assert.equal(failed.length, 2, failed.join('\n'));
    assert.match(failed[0] as string, /a\.toml: /);
    await m.send('in/a', 'again');
    await m.until('the previous version still runs', () => m.lines('out/a').length === 4);
  });

  it('a reload of a changed script while inputs are in flight: each gets its outputs, context.script carries over', async () => {
    const counting = (tag: string): string => `export function onMessage(m, context) {
  const n = (context.script.get('n') ?? 0) + 1;
  context.script.set('n', n);
  return { topic: 'out/a', payload: '${tag}' + n };
}`;
    const m = await mapper({ 'a.toml': 'input.mqtt.topics = ["in/a"]\nsteps = [{ script = "count.js" }]\n', 'count.js': counting('v1-') });
    for (let i = 0; i < 100; i++) await m.send('in/a', String(i));
    writeFileSync(join(m.dir, 'count.js'), counting('v2-'));
    const reloaded = m.converter.reload();
    for (let i = 100; i < 200; i++) await m.send('in/a', String(i));
    assert.deepEqual(await reloaded, []);
    for (let i = 200; i < 220; i++) await m.send('in/a', String(i));
    await m.until('every input acknowledged', () => m.acked() === 220);
    const out = m.lines('out/a');
    assert.equal(out.length, 220);
    const v1 = out.filter((o) => o.startsWith('v1-')).map((o) => Number(o.slice(3)));
    const v2 = out.filter((o) => o.startsWith('v2-')).map((o) => Number(o.slice(3)));
    assert.deepEqual(out, [...v1.map((n) => `v1-${n}`), ...v2.map((n) => `v2-${n}`)], 'the old version, then the new one');
    assert.deepEqual(v1, Array.from({ length: v1.length }, (_, i) => i + 1));
    assert.ok(v1.length >= 100 && v2.length >= 20, `${v1.length} by v1, ${v2.length} by v2`);
    assert.ok((v2[0] as number) > 1, 'context.script carried over to the new version');
  });

  it("c8y: a script step after into-c8y-measurements, early messages released through it, and a flow of a topic outside te/", async () => {
    const generated = c8yFlowTomls({ topics: ['te/+/+/+/+/m/+'], topicRoot: 'te', prefix: 'c8y', maxPayloadSize: 16184, serviceType: 'service' });
    const m = await mapper(
      {
        'measurements.toml': generated.measurements.replace(/\]\n\noutput/, '  { script = "tag.js" },\n]\n\noutput'),
        'tag.js': "export function onMessage(m) { const p = JSON.parse(new TextDecoder().decode(m.payload)); return { topic: m.topic, payload: JSON.stringify({ ...p, tagged: true }) }; }",
        'raw.toml': 'input.mqtt.topics = ["sensors/raw"]\nsteps = [{ script = "raw.js" }]\noutput.mqtt.topic = "c8y/s/us"\n',
        'raw.js': "export function onMessage(m) { return { topic: 'x', payload: '200,raw,' + new TextDecoder().decode(m.payload) }; }",
      },
      (flows) => new C8yConverter({ deviceId: 'main-device', prefix: 'c8y', topicRoot: 'te', topics: ['te/+/+/+/+', 'te/+/+/+/+/m/+'], maxPayloadSize: 16184, earlyMessageLimit: 10, createWithDeviceMarker: false, serviceType: 'service', useOperationId: true, enabled: () => true, fileTransferBase: 'http://127.0.0.1:1/te/v1/files', c8yProxyBase: 'http://127.0.0.1:1/c8y', c8yHost: undefined, telemetryFlows: flows }),
    );
    await m.send('te/device/early///m/env', '{"t":1}');
    await m.send('te/device/early//', '{"@type":"child-device"}');
    await m.send('te/device/main///m/env', '{"t":2}');
    await m.send('sensors/raw', '42');
    await m.until('four inputs acknowledged', () => m.acked() === 4);
    const measurements = m.lines('c8y/measurement/measurements/create').map((p) => JSON.parse(p) as Record<string, unknown>);
    assert.deepEqual(measurements.map((p) => [p['t'], p['tagged'], (p['externalSource'] as { externalId?: string } | undefined)?.externalId]), [
      [{ t: { value: 1 } }, true, 'main-device:device:early'],
      [{ t: { value: 2 } }, true, undefined],
    ]);
    assert.ok(m.lines('c8y/s/us').includes('200,raw,42'), m.lines('c8y/s/us').join('\n'));
  });

  it('a flow file that does not load at start is reported on te/errors, and the other flows run', async () => {
    const m = await mapper({ 'a.toml': SCRIPT_FLOW, 'twice.js': TWICE, 'broken.toml': 'steps = [' });
    await m.until('the load error on te/errors', () => m.lines('te/errors').length === 1);
    assert.ok((m.lines('te/errors')[0] as string).startsWith(`Flow ${join(m.dir, 'broken.toml')} cannot be loaded: `), m.lines('te/errors')[0]);
    await m.send('in/a', 'x');
    await m.until('a runs', () => m.lines('out/a').length === 2);
  });

  it('a stop before the worker answered leaves those inputs unacknowledged (the broker sends them again)', async () => {
    const slow = 'export function onMessage(m) { const t = Date.now() + 20; while (Date.now() < t) {} return { topic: "out/a", payload: m.payload }; }';
    const m = await mapper({ 'a.toml': 'input.mqtt.topics = ["in/a"]\nsteps = [{ script = "slow.js" }]\n', 'slow.js': slow });
    for (let i = 0; i < 20; i++) await m.send('in/a', String(i));
    await m.until('the first output', () => m.lines('out/a').length > 0);
    await m.runtime.stop(0);
    await new Promise((r) => setTimeout(r, 100));
    const acked = m.events.filter((e) => e.startsWith('ack [in/a] ')).map((e) => e.slice('ack [in/a] '.length));
    assert.ok(acked.length < 20, `${acked.length} acknowledged`);
    for (const i of acked) assert.ok(m.events.indexOf(`pub [out/a] ${i}`) >= 0 && m.events.indexOf(`pub [out/a] ${i}`) < m.events.indexOf(`ack [in/a] ${i}`), `input ${i} acknowledged after its output`);
  });
});

const HOLD_FLOW = 'input.mqtt.topics = ["in/h"]\nsteps = [{ script = "hold.js", interval = "2s" }]\n';
// A flow's chain counts its intervals from the real clock when made: the manual one starts a little later.
const NOW = (): Date => new Date(Date.now() + 300);

describe("a built-in mapper's flows: onInterval and statistics (the runtime's flush timer)", () => {
  it("calls a script step's onInterval at its interval and a builtin's at the default 1 s, and releases what they hold at a stop", async () => {
    const grouping = 'input.mqtt.topics = ["in/g"]\nsteps = [{ builtin = "group-measurements", config = { time_window = "100ms" } }]\noutput.mqtt.topic = "out/g"\n';
    const m = await mapper({ 'h.toml': HOLD_FLOW, 'hold.js': HOLDING_STEP, 'g.toml': grouping }, undefined, { start: NOW() });
    await m.send('in/h', 'a');
    await m.send('in/h', 'b');
    await m.send('in/g', '{"t":1}');
    await m.send('in/g', '{"u":2}');
    await m.until('the inputs acknowledged (held)', () => m.acked() === 4);
    m.time.advance(1500);
    await m.until('group-measurements released on its 1 s interval', () => m.lines('out/g').length === 1);
    assert.deepEqual(Object.keys(JSON.parse(m.lines('out/g')[0] as string) as object).sort(), ['t', 'time', 'u']);
    assert.deepEqual(m.lines('out/held'), [], 'hold.js: its interval is 2 s');
    m.time.advance(1500);
    await m.until("hold.js's onInterval on its 2 s interval", () => m.lines('out/held').length === 1);
    assert.deepEqual(m.lines('out/held'), ['a,b']);
    await m.send('in/h', 'c');
    await m.until('c held', () => m.acked() === 5);
    await m.runtime.stop();
    assert.deepEqual(m.lines('out/held'), ['a,b', 'c'], 'released by the final onInterval, published before the stop returned');
  });

  it('publishes a group-measurements batch younger than its window at a stop (its inputs were acknowledged)', async () => {
    const grouping = 'input.mqtt.topics = ["in/g"]\nsteps = [{ builtin = "group-measurements", config = { time_window = "1h" } }]\noutput.mqtt.topic = "out/g"\n';
    const m = await mapper({ 'g.toml': grouping }, undefined, { start: NOW() });
    await m.send('in/g', '{"t":1}');
    await m.send('in/g', '{"u":2}');
    await m.until('the inputs acknowledged (held)', () => m.acked() === 2);
    m.time.advance(1500);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(m.lines('out/g'), [], 'held: younger than its window');
    await m.runtime.stop();
    assert.deepEqual(m.lines('out/g').map((l) => Object.keys(JSON.parse(l) as object).sort()), [['t', 'time', 'u']], 'released by the final onInterval');
  });

  it('a reload replacing a flow publishes what its old version held: a builtin-only flow\'s young batch, a script step\'s held inputs once', async () => {
    const grouping = (window: string): string => `input.mqtt.topics = ["in/g"]\nsteps = [{ builtin = "group-measurements", config = { time_window = "${window}" } }]\noutput.mqtt.topic = "out/g"\n`;
    const m = await mapper({ 'g.toml': grouping('1h'), 'h.toml': HOLD_FLOW, 'hold.js': HOLDING_STEP }, undefined, { start: NOW() });
    await m.send('in/g', '{"t":1}');
    await m.send('in/h', 'a');
    await m.until('the inputs acknowledged (held)', () => m.acked() === 2);
    writeFileSync(join(m.dir, 'g.toml'), grouping('2h'));
    writeFileSync(join(m.dir, 'h.toml'), HOLD_FLOW.replace('2s', '3s'));
    assert.deepEqual(await m.converter.reload(), []);
    assert.deepEqual(m.lines('out/g').map((l) => Object.keys(JSON.parse(l) as object).sort()), [['t', 'time']], 'the old chain\'s batch');
    await m.until('the old script\'s held input', () => m.lines('out/held').length === 1);
    await m.runtime.stop();
    assert.deepEqual(m.lines('out/held'), ['a'], 'released once: the new version got an emptied context.script');
  });

  it('reports a failing onInterval on te/errors and publishes the flows\' statistics every flows.stats.interval, with the step records asked for', async () => {
    const failing = 'export function onMessage(m) { return m; }\nexport function onInterval() { throw new Error("tick failed"); }';
    const stats: FlowStatsSettings = { topicRoot: 'te', service: 'tedge-mapper-az', intervalMs: 5000, steps: { onMessage: true, onInterval: false, onStartup: false } };
    const m = await mapper({ 'a.toml': SCRIPT_FLOW, 'twice.js': TWICE, 'b.toml': INLINE_FLOW, 'f.toml': 'input.mqtt.topics = ["in/f"]\nsteps = [{ script = "f.js" }]\n', 'f.js': failing }, undefined, { stats, start: NOW() });
    for (const p of ['x', 'throw', 'y']) await m.send('in/a', p);
    await m.send('in/b', 'z');
    await m.until('inputs acknowledged', () => m.acked() === 4);
    m.time.advance(1500);
    await m.until('the failing onInterval reported', () => m.lines('te/errors').some((e) => e.includes('tick failed')));
    const metrics = 'te/device/main/service/tedge-mapper-az/status/metrics/';
    assert.deepEqual(m.lines(`${metrics}a.toml`), [], 'not before flows.stats.interval');
    m.time.advance(3500);
    await m.until('statistics published', () => m.lines(`${metrics}b.toml`).length === 1);
    const record = (name: string): Record<string, unknown> => JSON.parse(m.lines(`${metrics}${name}`)[0] as string) as Record<string, unknown>;
    assert.deepEqual(record('a.toml'), { type: 'flow', input: 3, output: 4, error: 1 });
    const inline = record('b.toml');
    assert.deepEqual({ ...inline, 'cpu-min': undefined, 'cpu-max': undefined }, { type: 'flow', input: 1, output: 1, error: 0, 'cpu-min': undefined, 'cpu-max': undefined });
    assert.match(String(inline['cpu-min']), /^\d+(\.\d+)?(ns|µs|ms|s)$/);
    assert.ok(m.lines(`${metrics}f.toml`).length === 1 && (record('f.toml')['error'] as number) >= 1, m.lines(`${metrics}f.toml`).join());
    const step = record('twice.js');
    assert.deepEqual([step['type'], step['input'], step['output'], step['error']], ['onMessage', 3, 4, 1]);
    assert.equal(record('set-topic')['input'], 1, 'the inline flow\'s builtin step');
    assert.deepEqual(m.lines(`${metrics}f.js.onInterval`), [], 'flows.stats.on_interval is off');
  });
});
