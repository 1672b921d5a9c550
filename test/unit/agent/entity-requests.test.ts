import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { EntityPersistence } from '../../../src/agent/entities/entity-persistence';
import { EntityRequestError } from '../../../src/agent/entities/entity-requests';
import { EntityService } from '../../../src/agent/entities/entity-service';
import { EntityStore } from '../../../src/agent/entities/entity-store';
import { MemoryBroker } from '../../../src/bus/memory-bus';
import { registrationFromJson } from '../../../src/core/entity';
import { formatLine, message } from '../../../src/core/message';
import { silentLogger } from '../../../src/log/logger';

/** The request methods of EntityService (the HTTP API's side) against an in-memory broker. */
describe('EntityService requests (HTTP entity API)', () => {
  let dir: string;
  let broker: MemoryBroker;
  let service: EntityService;
  let from = 0;
  const since = (): string[] => broker.published.slice(from).filter((m) => !m.topic.startsWith('tedge-ts/')).map((m) => `${m.retain ? '(r) ' : ''}${formatLine(m)}`);
  const mark = (): void => {
    from = broker.published.length;
  };
  const rejects = (f: () => unknown, kind: string, text: RegExp): void => {
    assert.throws(f, (err: unknown) => err instanceof EntityRequestError && err.kind === kind && text.test(err.message));
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-entity-requests-'));
    broker = new MemoryBroker();
    const bus = broker.connect();
    service = new EntityService({
      bus,
      store: new EntityStore(),
      persistence: new EntityPersistence(dir, silentLogger()),
      logger: silentLogger(),
      options: { topicRoot: 'te', autoRegister: true, cleanStart: false, serviceType: 'service', syncTopic: 'tedge-ts/agent-sync/device/main//' },
    });
    bus.onMessage((m) => service.handle(m));
    await service.start();
    mark();
  });
  afterEach(async () => {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('create publishes the retained registration and twin data; the echo changes nothing', async () => {
    service.create(registrationFromJson('device/child1//', { '@type': 'child-device', name: 'c1' }));
    await service.settled();
    assert.deepEqual(since(), ['(r) [te/device/child1//] {"@type":"child-device","@parent":"device/main//","name":"c1"}', '(r) [te/device/child1///twin/name] "c1"']);
    assert.deepEqual(service.twin('device/child1//'), { name: 'c1' });
    rejects(() => service.create(registrationFromJson('device/child1//', { '@type': 'child-device' })), 'conflict', /already registered/);
    rejects(() => service.create(registrationFromJson('device/x//', { '@type': 'child-device', '@parent': 'device/none//' })), 'invalid', /parent "device\/none\/\/" does not exist/);
    service.create(registrationFromJson('device/main/service/svc', { '@type': 'service' }));
    rejects(() => service.create(registrationFromJson('device/y//', { '@type': 'child-device', '@parent': 'device/main/service/svc' })), 'invalid', /only devices can have children/);
    assert.equal(service.entity('device/y//'), undefined);
  });

  it('update moves an entity and republishes it; remove clears it, its descendants and their twin data', async () => {
    service.create(registrationFromJson('device/a//', { '@type': 'child-device' }));
    service.create(registrationFromJson('device/b//', { '@type': 'child-device' }));
    service.create(registrationFromJson('device/b/service/s', { '@type': 'service', name: 's' }));
    await service.settled();
    mark();
    assert.equal(service.update('device/b//', { parent: 'device/a//' }).parent, 'device/a//');
    await service.settled();
    assert.deepEqual(since(), ['(r) [te/device/b//] {"@type":"child-device","@parent":"device/a//"}']);
    rejects(() => service.update('device/a//', { parent: 'device/b//' }), 'invalid', /is a descendent of/);
    rejects(() => service.update('device/none//', { parent: 'device/a//' }), 'not-found', /does not exist/);
    rejects(() => service.update('device/a//', { health: 'device/b//' }), 'invalid', /Only services can be health endpoints/);

    mark();
    const removed = service.remove('device/a//').map((e) => e.topicId);
    await service.settled();
    assert.deepEqual(removed, ['device/a//', 'device/b//', 'device/b/service/s']);
    assert.deepEqual(since().sort(), ['(r) [te/device/a//] ', '(r) [te/device/b//] ', '(r) [te/device/b/service/s/twin/name] ', '(r) [te/device/b/service/s] '].sort());
    assert.deepEqual(service.remove('device/a//'), []);
    assert.equal(broker.retainedMatching('te/#').filter((m) => m.topic.includes('device/b')).length, 0);
  });

  it('twin: set and replace publish only changes; MQTT twin messages are tracked', async () => {
    service.setTwinFragment('device/main//', 'x', 1);
    service.setTwinFragment('device/main//', 'x', 1);
    await service.settled();
    assert.deepEqual(since(), ['(r) [te/device/main///twin/x] 1']);
    mark();
    assert.deepEqual(service.replaceTwin('device/main//', { x: 1, y: { a: true }, z: null }), { x: 1, y: { a: true } });
    service.replaceTwin('device/main//', { y: { a: true } });
    await service.settled();
    assert.deepEqual(since(), ['(r) [te/device/main///twin/y] {"a":true}', '(r) [te/device/main///twin/x] ']);
    await broker.connect().publish(message('te/device/main///twin/from-mqtt', '"hello"', { retain: true }));
    assert.equal(service.twinFragment('device/main//', 'from-mqtt'), 'hello');
    await broker.connect().publish(message('te/device/main///twin/from-mqtt', '', { retain: true }));
    assert.equal(service.twinFragment('device/main//', 'from-mqtt'), undefined);
    rejects(() => service.setTwinFragment('device/main//', '@id', 1), 'invalid', /Invalid twin key/);
    rejects(() => service.setTwinFragment('device/none//', 'x', 1), 'not-found', /does not exist/);
    rejects(() => service.twin('device/none//'), 'not-found', /does not exist/);
  });
});
