import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listEntities } from '../../../src/agent/entities/entity-requests';
import { EntityStore } from '../../../src/agent/entities/entity-store';
import { parseEntityPath } from '../../../src/agent/http/entity-path';
import { parseEntityQuery } from '../../../src/agent/http/entity-query';
import { registrationFromJson } from '../../../src/core/entity';

describe('parseEntityQuery', () => {
  const table: Array<[string, ReturnType<typeof parseEntityQuery>]> = [
    ['', { ok: true, filters: {} }],
    ['root=device/child2//', { ok: true, filters: { root: 'device/child2//' } }],
    ['parent=device/child2//&type=service', { ok: true, filters: { parent: 'device/child2//', type: 'service' } }],
    ['type=main', { ok: true, filters: { type: 'device' } }],
    ['type=device', { ok: true, filters: { type: 'device' } }],
    ['type=child-device', { ok: true, filters: { type: 'child-device' } }],
    ['root=&parent=&type=', { ok: true, filters: {} }],
    ['unknown=1', { ok: true, filters: {} }],
    ['root=device%2Fchild2%2F%2F', { ok: true, filters: { root: 'device/child2//' } }],
    ['root=device/child2//&parent=device/main//', { ok: false, message: 'The provided parameters: root and parent are mutually exclusive. Use either one.' }],
    ['type=gateway', { ok: false, message: 'Invalid entity type: gateway' }],
    ['type=service&type=child-device', { ok: false, message: "The parameter 'type' can only be given once" }],
    ['root=device/child2', { ok: false, message: "An entity topic identifier has exactly 4 segments, e.g. 'device/child01//': 'device/child2'" }],
  ];
  for (const [query, expected] of table) {
    it(`?${query}`, () => assert.deepEqual(parseEntityQuery(new URLSearchParams(query)), expected));
  }
});

describe('listEntities', () => {
  // main ─ service0, child0 ─ child00 ─ child000, child2 ─ service20, child20, child21 ─ service210
  const store = new EntityStore();
  const reg = (id: string, type: 'child-device' | 'service', parent: string): void => {
    const outcome = store.register(registrationFromJson(id, { '@type': type, '@parent': parent }));
    assert.equal(outcome.kind, 'registered', id);
  };
  reg('device/main/service/service0', 'service', 'device/main//');
  reg('device/child2//', 'child-device', 'device/main//');
  reg('device/child0//', 'child-device', 'device/main//');
  reg('device/child00//', 'child-device', 'device/child0//');
  reg('device/child000//', 'child-device', 'device/child00//');
  reg('device/child2/service/service20', 'service', 'device/child2//');
  reg('device/child21//', 'child-device', 'device/child2//');
  reg('device/child20//', 'child-device', 'device/child2//');
  reg('device/child21/service/service210', 'service', 'device/child21//');

  const table: Array<[string, string[]]> = [
    [
      '',
      [
        'device/main//',
        'device/child0//',
        'device/child2//',
        'device/main/service/service0',
        'device/child00//',
        'device/child2/service/service20',
        'device/child20//',
        'device/child21//',
        'device/child000//',
        'device/child21/service/service210',
      ],
    ],
    ['root=device/child2//', ['device/child2//', 'device/child2/service/service20', 'device/child20//', 'device/child21//', 'device/child21/service/service210']],
    ['parent=device/child2//', ['device/child2/service/service20', 'device/child20//', 'device/child21//']],
    ['parent=device/child2//&type=child-device', ['device/child20//', 'device/child21//']],
    ['type=service', ['device/main/service/service0', 'device/child2/service/service20', 'device/child21/service/service210']],
    ['type=main', ['device/main//']],
    ['root=device/child21//&type=service', ['device/child21/service/service210']],
    ['root=device/unknown//', []],
    ['parent=device/child000//', []],
  ];
  for (const [query, ids] of table) {
    it(`?${query}`, () => {
      const q = parseEntityQuery(new URLSearchParams(query));
      assert.ok(q.ok);
      if (q.ok) assert.deepEqual(listEntities(store, q.filters).map((e) => e.topicId), ids);
    });
  }
});

describe('parseEntityPath', () => {
  const table: Array<[string, ReturnType<typeof parseEntityPath>]> = [
    ['', { kind: 'collection' }],
    ['/', { kind: 'collection' }],
    ['/device/child0', { kind: 'entity', topicId: 'device/child0//' }],
    ['/device/child0/', { kind: 'entity', topicId: 'device/child0//' }],
    ['/device/child0//', { kind: 'entity', topicId: 'device/child0//' }],
    ['/device/child0/service/app', { kind: 'entity', topicId: 'device/child0/service/app' }],
    ['/device/main///twin', { kind: 'twin', topicId: 'device/main//' }],
    ['/device/main///twin/', { kind: 'twin', topicId: 'device/main//' }],
    ['/device/main///twin/name', { kind: 'twin-fragment', topicId: 'device/main//', key: 'name' }],
    ['/device/main///twin/a%20b', { kind: 'twin-fragment', topicId: 'device/main//', key: 'a b' }],
    ['/device/main///twin/multi/path/key', { kind: 'refused', status: 400, message: "Invalid twin key: 'multi/path/key'. Keys that are empty, containing '/', '+', '#' or starting with '@' are not allowed" }],
    ['/device/main/service/tedge-agent/config', { kind: 'config', topicId: 'device/main/service/tedge-agent' }],
    ['/device/main/service/tedge-agent/config/device.id', { kind: 'config', topicId: 'device/main/service/tedge-agent', key: 'device.id' }],
    ['/device/main///config/a/b', { kind: 'refused', status: 404, message: 'Actions on channel: config are not supported' }],
    ['/device/bad-child///cmd/123', { kind: 'refused', status: 404, message: 'Actions on channel: cmd are not supported' }],
    ['/device', { kind: 'refused', status: 404, message: 'Not Found' }],
    ['x', { kind: 'refused', status: 404, message: 'Not Found' }],
    ['/device/a%2Fb', { kind: 'refused', status: 400, message: "Invalid entity topic id segment: 'a/b'" }],
    ['/device/%2B', { kind: 'refused', status: 400, message: "Invalid entity topic id segment: '+'" }],
    ['/device/%', { kind: 'refused', status: 400, message: "Invalid entity path: malformed percent-encoding in '%'" }],
  ];
  for (const [path, expected] of table) {
    it(JSON.stringify(path), () => assert.deepEqual(parseEntityPath(path), expected));
  }
});
