import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { BridgeService } from '../../../src/bridge/bridge-service';
import { Outbox } from '../../../src/bridge/outbox/outbox';
import { c8yRules } from '../../../src/bridge/rules';
import { DeadLetterFile } from '../../../src/bridge/dead-letter';
import { bridgeTopics } from '../../../src/bridge/status';
import { message } from '../../../src/core/message';
import { silentLogger } from '../../../src/log/logger';
import { ManualTime } from '../../helpers/manual-time';
import { FakeBridgeBus, until } from '../../helpers/fake-bridge-bus';

const TOPICS = bridgeTopics('te', 'main', 'tedge-mapper-bridge-c8y');
const POLICY = { initialMs: 1000, maximumMs: 8000, resetWindowMs: 60_000 };

let dir: string;
let time: ManualTime;
let local: FakeBridgeBus;
let clouds: FakeBridgeBus[];
/** What the next connection attempts do: true = succeed, false = fail. Default: succeed. */
let script: boolean[];
let attempts: number;
let bridge: BridgeService;
let outbox: Outbox;
/** Shapes each new cloud connection (how the fake cloud answers). */
let onNewCloud: ((cloud: FakeBridgeBus) => void) | undefined;

function start(): Promise<void> {
  outbox = Outbox.open({ dir, maxBytes: 1 << 20, fsync: 'always', timers: time, logger: silentLogger() });
  bridge = new BridgeService({
    name: 'tedge-mapper-bridge-c8y',
    rules: c8yRules('c8y'),
    local,
    connectCloud: async () => {
      attempts++;
      if (script.shift() === false) throw new Error('ECONNREFUSED');
      const cloud = new FakeBridgeBus();
      onNewCloud?.(cloud);
      clouds.push(cloud);
      return cloud;
    },
    outbox,
    policy: POLICY,
    topics: TOPICS,
    clock: time,
    timers: time,
    logger: silentLogger(),
    pid: 42,
    timestampFormat: 'unix',
    onConnect: [{ topic: 's/us', payload: Buffer.from('500'), qos: 1, retain: false }],
    maxPayload: { bytes: 16184, key: 'c8y.mapper.mqtt.max_payload_size' },
    deadLetters: new DeadLetterFile(join(dir, 'dead-letter.jsonl')),
  });
  return bridge.start();
}

const health = (): string[] => local.texts(TOPICS.health).map((t) => (JSON.parse(t) as { status: string }).status);
const cloud = (): FakeBridgeBus => clouds[clouds.length - 1]!;

describe('built-in bridge service', () => {
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-bridge-'));
    time = new ManualTime(new Date('2026-01-01T00:00:00Z'));
    local = new FakeBridgeBus();
    clouds = [];
    script = [];
    attempts = 0;
    onNewCloud = undefined;
  });
  afterEach(async () => {
    await bridge.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is down until the cloud is connected, then up, subscribed, and asks for pending operations', async () => {
    await start();
    await until(() => bridge.cloudConnected, 'the cloud connection');
    assert.deepEqual(health(), ['down', 'up']);
    assert.ok(local.subscribed.some((s) => s.filters.includes('c8y/s/us/#')));
    assert.ok(cloud().subscribed.some((s) => s.filters.includes('devicecontrol/notifications')));
    assert.deepEqual(cloud().texts('s/us'), ['500']);
  });

  it('reconnects with back-off, is down meanwhile, and asks for pending operations after each connect', async () => {
    await start();
    await until(() => bridge.cloudConnected, 'the first connection');
    script = [false, false, true];
    cloud().drop();
    assert.equal(bridge.cloudConnected, false);
    assert.deepEqual(health(), ['down', 'up', 'down']);
    // failures wait 1 s, 2 s, 4 s: nothing before each delay has passed
    const tries: number[] = [];
    for (const ms of [999, 1, 1999, 1, 3999, 1]) {
      time.advance(ms);
      await until(() => true, 'a turn');
      await new Promise((r) => setImmediate(r));
      tries.push(attempts);
    }
    assert.deepEqual(tries, [1, 2, 2, 3, 3, 4]);
    await until(() => bridge.cloudConnected, 'the reconnection');
    assert.equal(clouds.length, 2);
    assert.deepEqual(cloud().texts('s/us'), ['500']);
    assert.deepEqual(health(), ['down', 'up', 'down', 'up']);
  });

  it('acknowledges a local message only once it is in the outbox, then sends it', async () => {
    await start();
    await until(() => bridge.cloudConnected, 'the cloud connection');
    const m = message('c8y/measurement/measurements/create', '{"t":1}', { qos: 1 });
    local.deliver(m);
    assert.equal(local.acked.length, 0, 'not acknowledged synchronously');
    await until(() => local.acked.length === 1, 'the local PUBACK');
    await until(() => cloud().texts('measurement/measurements/create').length === 1, 'the cloud publish');
    assert.deepEqual(cloud().texts('measurement/measurements/create'), ['{"t":1}']);
  });

  it('keeps messages while the cloud is down and sends them all, in order, after it returns', async () => {
    script = [false];
    await start();
    for (let i = 0; i < 200; i++) local.deliver(message('c8y/s/us', `200,c8y_T,T,${i}`, { qos: 1 }));
    await until(() => local.acked.length === 200, 'all stored and acknowledged locally');
    assert.equal(bridge.cloudConnected, false);
    time.advance(POLICY.initialMs);
    await until(() => bridge.cloudConnected, 'the connection');
    await until(() => cloud().texts('s/us').length === 201, 'the backlog');
    assert.deepEqual(cloud().texts('s/us'), ['500', ...Array.from({ length: 200 }, (_, i) => `200,c8y_T,T,${i}`)]);
    await until(() => outbox.stats.pendingRecords === 0, 'the outbox to empty');
  });

  it('refuses a message over the cloud payload limit before the outbox, says so on te/errors, and goes on', async () => {
    await start();
    await until(() => bridge.cloudConnected, 'the cloud connection');
    const big = message('c8y/s/us', `301,c8y_Big,${'x'.repeat(20_000)}`, { qos: 1 });
    local.deliver(big);
    local.deliver(message('c8y/s/us', '400,c8y_Small,small', { qos: 1 }));
    await until(() => local.acked.length === 2, 'both acknowledged locally');
    await until(() => cloud().texts('s/us').length === 2, 'the small one delivered');
    assert.deepEqual(cloud().texts('s/us'), ['500', '400,c8y_Small,small']);
    assert.equal(bridge.counters.oversized, 1);
    const [error] = local.texts(TOPICS.errors);
    assert.match(error ?? '', /'c8y\/s\/us' is too large for the cloud: 20012 bytes, the limit is 16184 \(c8y.mapper.mqtt.max_payload_size\)/);
  });

  it('moves aside a record the cloud closes the connection over every time, and delivers the ones behind it', async () => {
    onNewCloud = (c) => (c.autoPuback = false); // the test answers for the cloud
    await start();
    await until(() => bridge.cloudConnected, 'the cloud connection');
    const poison = '302,c8y_Poison,refused';
    for (const text of [poison, '400,c8y_A,a', '400,c8y_B,b']) local.deliver(message('c8y/s/us', text, { qos: 1 }));
    await until(() => local.acked.length === 3, 'all stored');
    let connections = 0;
    for (; connections < 10; connections++) {
      const c = cloud();
      await until(() => c.texts('s/us').length >= 2, 'a record sent');
      if (!c.texts('s/us').includes(poison)) break;
      // A cloud that closes the connection whenever it gets the poison record, before any PUBACK.
      c.drop();
      time.advance(POLICY.maximumMs);
      await until(() => clouds.length === connections + 2 && bridge.cloudConnected, 'the reconnection');
    }
    // One drop with all three in flight (no strike), then three with the poison record alone.
    assert.equal(connections, 4);
    assert.equal(outbox.stats.refusedRecords, 1, 'the poison record was moved aside');
    const last = cloud();
    last.autoPuback = true;
    last.releasePublishes();
    await until(() => outbox.stats.pendingRecords === 0, 'the records behind it delivered');
    assert.deepEqual(last.texts('s/us'), ['500', '400,c8y_A,a', '400,c8y_B,b']);
    const dead = readFileSync(join(dir, 'dead-letter.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { topic: string; payload_base64: string });
    assert.deepEqual(dead.map((d) => [d.topic, Buffer.from(d.payload_base64, 'base64').toString()]), [['s/us', poison]]);
    assert.ok(local.texts(TOPICS.errors).some((e) => /was refused by the cloud/.test(e)));
  });

  it('sends again what was in flight when the connection dropped', async () => {
    await start();
    await until(() => bridge.cloudConnected, 'the cloud connection');
    cloud().autoPuback = false;
    for (let i = 0; i < 5; i++) local.deliver(message('c8y/s/us', `m${i}`, { qos: 1 }));
    await until(() => cloud().texts('s/us').length === 6, 'five in flight');
    cloud().drop();
    time.advance(POLICY.initialMs);
    await until(() => bridge.cloudConnected, 'the reconnection');
    await until(() => cloud().texts('s/us').length === 6, 'the resend');
    assert.deepEqual(cloud().texts('s/us'), ['500', 'm0', 'm1', 'm2', 'm3', 'm4']);
  });

  it('keeps at most `window` records in flight', async () => {
    await start();
    await until(() => bridge.cloudConnected, 'the cloud connection');
    cloud().autoPuback = false;
    for (let i = 0; i < 150; i++) local.deliver(message('c8y/s/us', `m${i}`, { qos: 1 }));
    await until(() => cloud().texts('s/us').length === 101, 'a full window');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(cloud().texts('s/us').length, 101);
    cloud().releasePublishes();
    await until(() => cloud().texts('s/us').length === 151, 'the rest');
  });

  it('publishes cloud messages locally, and acknowledges them to the cloud after the local broker has them', async () => {
    await start();
    await until(() => bridge.cloudConnected, 'the cloud connection');
    local.autoPuback = false;
    const op = message('devicecontrol/notifications', '{"id":"1"}', { qos: 1 });
    cloud().deliver(op);
    assert.deepEqual(local.texts('c8y/devicecontrol/notifications'), ['{"id":"1"}']);
    await new Promise((r) => setImmediate(r));
    assert.equal(cloud().acked.length, 0);
    local.autoPuback = true;
    local.releasePublishes();
    await until(() => cloud().acked.length === 1, 'the cloud PUBACK');
  });

  it('answers a health check with its current health', async () => {
    await start();
    await until(() => bridge.cloudConnected, 'the cloud connection');
    local.deliver(message(TOPICS.healthChecks[1]!, '{}'));
    await until(() => health().length === 3, 'the answer');
    assert.deepEqual(health(), ['down', 'up', 'up']);
  });

  it('reports the outbox on its metrics topic, counting redeliveries from the local broker', async () => {
    await start();
    await until(() => bridge.cloudConnected, 'the cloud connection');
    local.deliver(message('c8y/s/us', 'x', { qos: 1 }), true);
    await until(() => outbox.stats.delivered === 1, 'delivery');
    time.advance(5000);
    const last = JSON.parse(local.texts(TOPICS.metrics).at(-1)!) as Record<string, unknown>;
    assert.equal(last['connected'], true);
    assert.equal(last['delivered_messages'], 1);
    assert.equal(last['local_redelivered_messages'], 1);
    assert.equal(last['possible_duplicates'], 1);
    assert.equal(last['pending_messages'], 0);
  });
});
