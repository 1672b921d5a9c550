import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EntityStore } from '../../../src/agent/entities/entity-store';
import { type EntityRegistration, parseRegistration } from '../../../src/core/entity';

/** A registration as it arrives on `te/<id>`. */
function reg(topicId: string, payload: Record<string, unknown>): EntityRegistration {
  const r = parseRegistration(topicId, JSON.stringify(payload));
  assert.ok(r);
  return r;
}

const child1 = reg('device/child1//', { '@type': 'child-device', name: 'child1' });
const nested = reg('device/nested//', { '@type': 'child-device', '@parent': 'device/child1//' });
const app = reg('device/child1/service/app', { '@type': 'service' });

describe('EntityStore', () => {
  it('has the main device from the start, and nothing to persist for it', () => {
    const store = new EntityStore();
    assert.equal(store.get('device/main//')?.type, 'device');
    assert.deepEqual(store.registrations(), []);
  });

  it('registers a child device, a nested child and a service, parents first', () => {
    const store = new EntityStore();
    for (const r of [child1, nested, app]) assert.equal(store.register(r).kind, 'registered');
    assert.deepEqual(
      store.children('device/child1//').map((e) => e.topicId).sort(),
      ['device/child1/service/app', 'device/nested//'],
    );
    assert.deepEqual(store.registrations().map((e) => e.topicId), ['device/child1//', 'device/nested//', 'device/child1/service/app']);
  });

  it('holds a child whose parent is unknown and registers it (and its own waiting children) when the parent arrives', () => {
    const store = new EntityStore();
    const deeper = reg('device/deeper//', { '@type': 'child-device', '@parent': 'device/nested//' });
    assert.deepEqual(store.register(deeper), { kind: 'pending', parent: 'device/nested//' });
    assert.deepEqual(store.register(nested), { kind: 'pending', parent: 'device/child1//' });
    assert.equal(store.isRegistered('device/deeper//'), false);
    assert.ok(store.knows('device/deeper//'));
    const outcome = store.register(child1);
    assert.equal(outcome.kind, 'registered');
    assert.deepEqual(outcome.kind === 'registered' && outcome.entities.map((e) => e.topicId), ['device/child1//', 'device/nested//', 'device/deeper//']);
    assert.deepEqual(store.pendingTopicIds(), []);
  });

  it('drops waiting children whose parent turns out to be a service', () => {
    const store = new EntityStore();
    store.register(reg('device/x//', { '@type': 'child-device', '@parent': 'device/main/service/svc' }));
    const outcome = store.register(reg('device/main/service/svc', { '@type': 'service' }));
    assert.equal(outcome.kind, 'registered');
    assert.deepEqual(outcome.kind === 'registered' && outcome.dropped.map((d) => d.topicId), ['device/x//']);
    assert.equal(store.knows('device/x//'), false);
  });

  it('rejects a service as parent', () => {
    const store = new EntityStore();
    store.register(child1);
    store.register(app);
    const outcome = store.register(reg('device/y//', { '@type': 'child-device', '@parent': 'device/child1/service/app' }));
    assert.equal(outcome.kind, 'rejected');
  });

  it('treats the same registration again as unchanged, whatever the key order', () => {
    const store = new EntityStore();
    store.register(reg('device/c//', { '@type': 'child-device', a: 1, b: { x: 1, y: 2 } }));
    assert.deepEqual(store.register(reg('device/c//', { b: { y: 2, x: 1 }, a: 1, '@type': 'child-device' })), { kind: 'unchanged' });
  });

  it('lets @parent, @health and twin data change', () => {
    const store = new EntityStore();
    store.register(child1);
    store.register(reg('device/child2//', { '@type': 'child-device' }));
    store.register(nested);
    const moved = reg('device/nested//', { '@type': 'child-device', '@parent': 'device/child2//', '@health': 'device/nested/service/foo', name: 'n' });
    const outcome = store.register(moved);
    assert.equal(outcome.kind, 'updated');
    assert.deepEqual(store.children('device/child1//'), []);
    assert.deepEqual(store.children('device/child2//').map((e) => e.topicId), ['device/nested//']);
    assert.equal(store.get('device/nested//')?.health, 'device/nested/service/foo');
  });

  it('keeps @type and @id immutable', () => {
    const store = new EntityStore();
    store.register(reg('device/c//', { '@type': 'child-device', '@id': 'xid-1' }));
    const typeChange = store.register(reg('device/c//', { '@type': 'service' }));
    assert.equal(typeChange.kind, 'rejected');
    assert.match(typeChange.kind === 'rejected' ? typeChange.reason : '', /"@type" cannot change/);
    const idChange = store.register(reg('device/c//', { '@type': 'child-device', '@id': 'xid-2' }));
    assert.match(idChange.kind === 'rejected' ? idChange.reason : '', /"@id" cannot change/);
    // Without @id the registered one is kept: not stating it is not changing it.
    assert.equal(store.register(reg('device/c//', { '@type': 'child-device', name: 'c' })).kind, 'updated');
    assert.equal(store.get('device/c//')?.externalId, 'xid-1');
  });

  it('rejects a new parent that is unknown or a descendant (a cycle)', () => {
    const store = new EntityStore();
    store.register(child1);
    store.register(nested);
    assert.equal(store.register(reg('device/child1//', { '@type': 'child-device', '@parent': 'device/unknown//' })).kind, 'rejected');
    const cycle = store.register(reg('device/child1//', { '@type': 'child-device', '@parent': 'device/nested//' }));
    assert.match(cycle.kind === 'rejected' ? cycle.reason : '', /cycle/);
  });

  it('deregisters an entity with all its descendants, the entity first', () => {
    const store = new EntityStore();
    for (const r of [child1, nested, app, reg('device/other//', { '@type': 'child-device' })]) store.register(r);
    const removed = store.deregister('device/child1//').map((e) => e.topicId);
    assert.equal(removed[0], 'device/child1//');
    assert.deepEqual([...removed].sort(), ['device/child1//', 'device/child1/service/app', 'device/nested//']);
    assert.deepEqual(store.registrations().map((e) => e.topicId), ['device/other//']);
    assert.deepEqual(store.deregister('device/child1//'), []);
  });

  it('deregisters a waiting entity with the entities waiting for it', () => {
    const store = new EntityStore();
    store.register(nested);
    store.register(reg('device/deeper//', { '@type': 'child-device', '@parent': 'device/nested//' }));
    assert.deepEqual(store.deregister('device/nested//').map((e) => e.topicId), ['device/nested//', 'device/deeper//']);
    assert.deepEqual(store.pendingTopicIds(), []);
  });

  it('lets the main device be registered explicitly, and reverts it (keeping its children) when cleared', () => {
    const store = new EntityStore();
    store.register(child1);
    const main = reg('device/main//', { '@type': 'device', '@id': 'gw-1', type: 'Gateway' });
    assert.equal(store.register(main).kind, 'updated');
    assert.deepEqual(store.registrations().map((e) => e.topicId), ['device/main//', 'device/child1//']);
    assert.equal(store.register(reg('device/main//', { '@type': 'device', '@id': 'gw-2' })).kind, 'rejected');
    assert.equal(store.deregister('device/main//').length, 1);
    assert.equal(store.get('device/main//')?.externalId, undefined);
    assert.ok(store.isRegistered('device/child1//'));
  });

  it('bounds the number of waiting entities', () => {
    const store = new EntityStore('device/main//', 2);
    store.register(reg('device/a//', { '@type': 'child-device', '@parent': 'device/p//' }));
    store.register(reg('device/b//', { '@type': 'child-device', '@parent': 'device/p//' }));
    assert.equal(store.register(reg('device/c//', { '@type': 'child-device', '@parent': 'device/p//' })).kind, 'rejected');
  });
});
