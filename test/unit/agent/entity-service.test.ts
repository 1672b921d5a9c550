import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ENTITY_STORE_FILE, EntityPersistence } from '../../../src/agent/entities/entity-persistence';
import { EntityService, type EntityServiceOptions } from '../../../src/agent/entities/entity-service';
import { EntityStore } from '../../../src/agent/entities/entity-store';
import { MemoryBroker } from '../../../src/bus/memory-bus';
import { type Message, formatLine, message } from '../../../src/core/message';
import { silentLogger } from '../../../src/log/logger';

interface Agent {
  readonly service: EntityService;
  readonly store: EntityStore;
  stop(): Promise<void>;
}

/** An entity service on `broker`, wired as main.ts wires it, persisting in `stateDir`. */
async function startAgent(broker: MemoryBroker, stateDir: string, options: Partial<EntityServiceOptions> = {}): Promise<Agent> {
  const bus = broker.connect();
  const store = new EntityStore();
  const service = new EntityService({
    bus,
    store,
    persistence: new EntityPersistence(stateDir, silentLogger()),
    logger: silentLogger(),
    options: { topicRoot: 'te', autoRegister: true, cleanStart: false, serviceType: 'service', syncTopic: 'tedge-ts/agent-sync/device/main//', ...options },
  });
  bus.onMessage((m) => service.handle(m));
  await service.start();
  return {
    service,
    store,
    stop: async () => {
      await service.stop();
      await bus.close();
    },
  };
}

/** What the agent published, as `[topic] payload` lines, with the retain flag marked `(r)`. */
function lines(msgs: readonly Message[]): string[] {
  return msgs.map((m) => (m.retain ? `(r) ${formatLine(m)}` : formatLine(m)));
}

describe('EntityService', () => {
  let dir: string;
  let broker: MemoryBroker;
  let agent: Agent;
  /** A device-side client: sensors, apps, the user with `tedge mqtt pub`. */
  let pub: (topic: string, payload: string | Uint8Array, retain?: boolean) => Promise<void>;
  /** Messages published after `mark()`, excluding those the test itself published. */
  let since: () => string[];
  let mark: () => void;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-agent-unit-'));
    broker = new MemoryBroker();
    const device = broker.connect();
    const own = new Set<Message>();
    pub = async (topic, payload, retain = false) => {
      const m = message(topic, payload, { qos: 1, retain });
      own.add(m);
      await device.publish(m);
    };
    let from = 0;
    mark = () => {
      from = broker.published.length;
    };
    since = () => lines(broker.published.slice(from).filter((m) => !own.has(m) && !m.topic.startsWith('tedge-ts/')));
    agent = await startAgent(broker, dir);
    mark();
  });
  afterEach(async () => {
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers a child, a nested child and a service, and republishes their twin data', async () => {
    await pub('te/device/child1//', '{"@type":"child-device","name":"child1","type":"Sensor"}', true);
    await pub('te/device/nested//', '{"@type":"child-device","@parent":"device/child1//"}', true);
    await pub('te/device/child1/service/app', '{"@type":"service","name":"app"}', true);
    assert.deepEqual(agent.store.registrations().map((e) => e.topicId), ['device/child1//', 'device/nested//', 'device/child1/service/app']);
    assert.deepEqual(since(), [
      '(r) [te/device/child1///twin/name] "child1"',
      '(r) [te/device/child1///twin/type] "Sensor"',
      '(r) [te/device/child1/service/app/twin/name] "app"',
    ]);
    assert.equal(agent.service.stats.registered, 3);
  });

  it('registers a child that arrives before its parent once the parent arrives', async () => {
    await pub('te/device/nested//', '{"@type":"child-device","@parent":"device/child1//","name":"nested"}', true);
    assert.equal(agent.store.isRegistered('device/nested//'), false);
    assert.deepEqual(since(), []);
    await pub('te/device/child1//', '{"@type":"child-device"}', true);
    assert.ok(agent.store.isRegistered('device/nested//'));
    assert.deepEqual(since(), ['(r) [te/device/nested///twin/name] "nested"']);
  });

  it('reports a change of @type on te/errors and keeps the registered entity', async () => {
    await pub('te/device/child1//', '{"@type":"child-device"}', true);
    mark();
    await pub('te/device/child1//', '{"@type":"service"}', true);
    assert.equal(agent.store.get('device/child1//')?.type, 'child-device');
    const errors = since();
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /^\[te\/errors\] Failed to register the entity on topic 'te\/device\/child1\/\/': "@type" cannot change/);
  });

  it('applies a change of @parent and republishes only the twin keys that changed', async () => {
    await pub('te/device/a//', '{"@type":"child-device"}', true);
    await pub('te/device/c//', '{"@type":"child-device","name":"c","type":"T"}', true);
    mark();
    await pub('te/device/c//', '{"@type":"child-device","@parent":"device/a//","name":"c","type":"T2"}', true);
    assert.equal(agent.store.get('device/c//')?.parent, 'device/a//');
    assert.deepEqual(since(), ['(r) [te/device/c///twin/type] "T2"']);
  });

  it('deregisters an entity and its descendants, clearing the descendants’ retained registrations', async () => {
    await pub('te/device/child1//', '{"@type":"child-device"}', true);
    await pub('te/device/nested//', '{"@type":"child-device","@parent":"device/child1//"}', true);
    await pub('te/device/child1/service/app', '{"@type":"service"}', true);
    await pub('te/device/other//', '{"@type":"child-device"}', true);
    mark();
    await pub('te/device/child1//', '', true);
    assert.deepEqual(agent.store.registrations().map((e) => e.topicId), ['device/other//']);
    assert.deepEqual(since().sort(), ['(r) [te/device/child1/service/app] ', '(r) [te/device/nested//] ']);
    const stillRetained = broker.retainedMatching('te/+/+/+/+').map((m) => m.topic);
    assert.deepEqual(stillRetained, ['te/device/other//']);
    const file = readFileSync(join(dir, ENTITY_STORE_FILE), 'utf8');
    assert.match(file, /"op":"deregister","topic_id":"device\/child1\/\/"/);
  });

  it('auto-registers the device then the service of a first measurement, with their twin data', async () => {
    await pub('te/device/child1/service/app/m/temp', '{"temperature":21}');
    assert.deepEqual(since(), [
      '(r) [te/device/child1//] {"@type":"child-device","@parent":"device/main//","name":"child1"}',
      '(r) [te/device/child1///twin/name] "child1"',
      '(r) [te/device/child1/service/app] {"@type":"service","@parent":"device/child1//","name":"app","type":"service"}',
      '(r) [te/device/child1/service/app/twin/name] "app"',
      '(r) [te/device/child1/service/app/twin/type] "service"',
    ]);
    assert.equal(agent.service.stats.autoRegistered, 2);
    mark();
    await pub('te/device/child1/service/app/m/temp', '{"temperature":22}');
    await pub('te/device/child1/service/other/status/health', '{"status":"up"}', true);
    assert.deepEqual(since(), [
      '(r) [te/device/child1/service/other] {"@type":"service","@parent":"device/child1//","name":"other","type":"service"}',
      '(r) [te/device/child1/service/other/twin/name] "other"',
      '(r) [te/device/child1/service/other/twin/type] "service"',
    ]);
  });

  it('does not auto-register from clears, commands or signals', async () => {
    await pub('te/device/ghost///a/high', '', true);
    await pub('te/device/ghost///cmd/restart/c8y-1', '{"status":"init"}', true);
    await pub('te/device/ghost///signal/sync', '{}');
    assert.deepEqual(since(), []);
    assert.equal(agent.store.knows('device/ghost//'), false);
  });

  it('reports data of an entity outside the default scheme once on te/errors', async () => {
    await pub('te/factory/hall/belt/1/m/speed', '{"v":1}');
    await pub('te/factory/hall/belt/1/m/speed', '{"v":2}');
    const out = since();
    assert.equal(out.length, 1);
    assert.match(out[0] ?? '', /^\[te\/errors\] .*'factory\/hall\/belt\/1', which is not registered/);
    assert.equal(agent.service.stats.unknownData, 1);
  });

  it('reports invalid registrations on te/errors and keeps working', async () => {
    await pub('te/device/bad//', '{"@type":"child-device"', true);
    await pub('te/device/bad2//', '{"@type":"robot"}', true);
    await pub('te/device/bad3//', '[1,2]', true);
    await pub('te/device/bad4//', new Uint8Array([0x7b, 0xff, 0x7d]), true);
    const errors = since();
    assert.equal(errors.length, 4);
    assert.match(errors[0] ?? '', /^\[te\/errors\] Invalid entity registration on topic 'te\/device\/bad\/\/': Invalid JSON/);
    assert.match(errors[1] ?? '', /"@type" must be one of/);
    mark();
    await pub('te/device/good//', '{"@type":"child-device"}', true);
    assert.ok(agent.store.isRegistered('device/good//'));
    assert.deepEqual(since(), []);
  });

  it('survives a restart: restores from the file and republishes what a restarted broker lost', async () => {
    await pub('te/device/child1/service/app/m/temp', '{"temperature":21}');
    await pub('te/device/main//', '{"@type":"device","type":"Gateway"}', true);
    await agent.stop();

    // A broker restarted without persistence: no retained registrations left.
    broker = new MemoryBroker();
    agent = await startAgent(broker, dir);
    assert.deepEqual(agent.store.registrations().map((e) => e.topicId), ['device/main//', 'device/child1//', 'device/child1/service/app']);
    assert.deepEqual(
      broker.retainedMatching('te/+/+/+/+').map((m) => formatLine(m)).sort(),
      [
        '[te/device/child1//] {"@type":"child-device","@parent":"device/main//","name":"child1"}',
        '[te/device/child1/service/app] {"@type":"service","@parent":"device/child1//","name":"app","type":"service"}',
        '[te/device/main//] {"@type":"device","type":"Gateway"}',
      ],
    );
    assert.equal(agent.service.stats.republished, 3);
  });

  it('does not rewrite registrations the broker still has', async () => {
    await pub('te/device/child1//', '{"@type":"child-device"}', true);
    await agent.stop();
    mark();
    agent = await startAgent(broker, dir);
    assert.equal(agent.service.stats.republished, 0);
    assert.deepEqual(since(), []);
  });

  it('rebuilds the store from retained registrations on a clean start', async () => {
    await pub('te/device/child1//', '{"@type":"child-device"}', true);
    await agent.stop();
    await pub('te/device/child1//', '', true);
    agent = await startAgent(broker, dir, { cleanStart: true });
    assert.deepEqual(agent.store.registrations(), []);
  });

  it('handles messages that arrive before start (queued by the broker for a persistent session) once the store is loaded', async () => {
    await pub('te/device/child1//', '{"@type":"child-device"}', true);
    await agent.stop();
    const bus = broker.connect();
    const store = new EntityStore();
    const service = new EntityService({
      bus,
      store,
      persistence: new EntityPersistence(dir, silentLogger()),
      logger: silentLogger(),
      options: { topicRoot: 'te', autoRegister: true, cleanStart: false, serviceType: 'service', syncTopic: 'tedge-ts/sync' },
    });
    service.handle(message('te/device/child2//', '{"@type":"child-device","@parent":"device/child1//"}', { retain: true }));
    assert.equal(store.isRegistered('device/child2//'), false);
    bus.onMessage((m) => service.handle(m));
    await service.start();
    assert.deepEqual(store.registrations().map((e) => e.topicId), ['device/child1//', 'device/child2//']);
    assert.equal(service.stats.persistenceFailures, 0);
    await service.stop();
    await bus.close();
    agent = await startAgent(broker, dir);
    assert.ok(agent.store.isRegistered('device/child2//'));
  });

  it('reports data of unknown entities on te/errors when auto-registration is off, and registers nothing', async () => {
    await agent.stop();
    agent = await startAgent(broker, dir, { autoRegister: false });
    mark();
    await pub('te/device/child1/service/app/m/temp', '{"temperature":21}');
    await pub('te/device/child1/service/app/m/temp', '{"temperature":22}');
    const out = since();
    assert.equal(out.length, 1);
    assert.match(out[0] ?? '', /^\[te\/errors\] .*'device\/child1\/service\/app', which is not registered: auto-registration is disabled/);
    assert.equal(agent.store.knows('device/child1/service/app'), false);
    // Once registered, its data is fine; after a deregistration it is reported again.
    await pub('te/device/child1//', '{"@type":"child-device"}', true);
    await pub('te/device/child1/service/app', '{"@type":"service"}', true);
    mark();
    await pub('te/device/child1/service/app/m/temp', '{"temperature":23}');
    assert.deepEqual(since(), []);
  });
});
