import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryBroker } from '../../../src/bus/memory-bus';
import { formatLine, message } from '../../../src/core/message';
import { silentLogger } from '../../../src/log/logger';
import { CollectdConverter } from '../../../src/mapper/collectd/converter';
import { MapperRuntime } from '../../../src/mapper/runtime';
import { HealthReporter } from '../../../src/runtime/health';
import { ManualTime } from '../../helpers/manual-time';

const OUT = 'te/device/main///m/';
const HEALTH = 'te/device/main/service/tedge-mapper-collectd/status/health';

async function setup() {
  const broker = new MemoryBroker();
  const time = new ManualTime(new Date('2026-01-02T03:04:05Z'));
  const bus = broker.connect();
  const health = new HealthReporter(bus, time, { root: 'te', service: 'device/main/service/tedge-mapper-collectd', device: 'device/main//', timestampFormat: 'unix' }, 7);
  const converter = new CollectdConverter({ outputTopic: OUT, windowMs: 200 });
  const runtime = new MapperRuntime({ name: 'tedge-mapper-collectd', bus, clock: time, timers: time, converter, health, logger: silentLogger(), topicRoot: 'te' });
  await runtime.start();
  const device = broker.connect();
  const lines = (topic: string) => broker.published.filter((m) => m.topic === topic).map(formatLine);
  const send = (topic: string, payload: string) => device.publish(message(topic, payload));
  return { broker, time, runtime, lines, send };
}

describe('mapper runtime: timer-driven flush of a batching converter', () => {
  it('publishes one measurement when the window closes, not before', async () => {
    const { time, lines, send } = await setup();
    await send('collectd/h/cpu/idle', '1617822000:97');
    time.advance(100);
    await send('collectd/h/memory/used', '1617822000.1:40');
    time.advance(99);
    assert.deepEqual(lines(OUT), []);
    time.advance(1);
    assert.deepEqual(lines(OUT), [`[${OUT}] {"time":"2021-04-07T19:00:00Z","cpu":{"idle":97},"memory":{"used":40}}`]);
    assert.equal(time.pending, 0, 'no timer left armed while nothing is held');
  });

  it('arms the timer again for the next read cycle', async () => {
    const { time, lines, send } = await setup();
    await send('collectd/h/cpu/idle', '1617822000:97');
    time.advance(250);
    await send('collectd/h/cpu/idle', '1617822010:96');
    time.advance(199);
    assert.equal(lines(OUT).length, 1);
    time.advance(1);
    assert.deepEqual(lines(OUT)[1], `[${OUT}] {"time":"2021-04-07T19:00:10Z","cpu":{"idle":96}}`);
  });

  it('keeps one timer for many held batches', async () => {
    const { time, lines, send } = await setup();
    for (let i = 0; i < 5; i++) await send('collectd/h/cpu/idle', `${1617822000 + 10 * i}:${i}`);
    assert.equal(time.pending, 1);
    time.advance(200);
    assert.equal(lines(OUT).length, 5);
  });

  it('reports a malformed line on te/errors and goes on batching', async () => {
    const { time, lines, send, runtime } = await setup();
    await send('collectd/h/cpu', '1617822000:97');
    await send('collectd/h/cpu/idle', '1617822000:97');
    time.advance(200);
    assert.deepEqual(lines('te/errors'), ["[te/errors] Failed to convert a message on topic 'collectd/h/cpu': Message received on invalid collectd topic: collectd/h/cpu. Collectd message topics must be in the format collectd/<hostname>/<metric-plugin-name>/<metric-key>"]);
    assert.equal(lines(OUT).length, 1);
    assert.equal(runtime.stats.errors, 1);
  });

  it('publishes what it holds at stop, before its health goes down', async () => {
    const { broker, time, send, runtime } = await setup();
    await send('collectd/h/cpu/idle', '1617822000:97');
    await runtime.stop();
    const order = broker.published.filter((m) => m.topic === OUT || m.topic === HEALTH).map(formatLine);
    assert.deepEqual(order.slice(-2), [`[${OUT}] {"time":"2021-04-07T19:00:00Z","cpu":{"idle":97}}`, `[${HEALTH}] {"status":"down","pid":7}`]);
    assert.equal(time.pending, 0);
  });

  it('refuses a batching converter without timers', () => {
    const broker = new MemoryBroker();
    const bus = broker.connect();
    const time = new ManualTime(new Date(0));
    const health = new HealthReporter(bus, time, { root: 'te', service: 'device/main/service/x', device: 'device/main//', timestampFormat: 'unix' }, 1);
    const converter = new CollectdConverter({ outputTopic: OUT, windowMs: 200 });
    assert.throws(() => new MapperRuntime({ name: 'x', bus, clock: time, converter, health, logger: silentLogger(), topicRoot: 'te' }), /needs timers/);
  });
});
