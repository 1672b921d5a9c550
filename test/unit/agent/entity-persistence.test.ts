import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ENTITY_STORE_FILE, EntityPersistence, formatEvent, parseEvent } from '../../../src/agent/entities/entity-persistence';
import { EntityStore } from '../../../src/agent/entities/entity-store';
import { type EntityRegistration, parseRegistration } from '../../../src/core/entity';
import { silentLogger } from '../../../src/log/logger';

function reg(topicId: string, payload: Record<string, unknown>): EntityRegistration {
  const r = parseRegistration(topicId, JSON.stringify(payload));
  assert.ok(r);
  return r;
}

const child1 = reg('device/child1//', { '@type': 'child-device', '@id': 'xid-child1', name: 'child1' });
const nested = reg('device/nested//', { '@type': 'child-device', '@parent': 'device/child1//' });
const app = reg('device/child1/service/app', { '@type': 'service', name: 'app', type: 'service' });

describe('EntityPersistence', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-entity-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Opens the file in `dir` into a fresh store, as the agent does at start. */
  function reopen(clean = false): { store: EntityStore; persistence: EntityPersistence; skipped: number; restored: number } {
    const store = new EntityStore();
    const persistence = new EntityPersistence(dir, silentLogger());
    const report = persistence.open(store, { clean });
    return { store, persistence, ...report };
  }

  it('formats and parses events as exact inverses', () => {
    for (const event of [{ op: 'register', registration: nested } as const, { op: 'deregister', topicId: 'device/x//' } as const]) {
      assert.deepEqual(parseEvent(formatEvent(event)), event);
    }
  });

  it('restores registrations and deregistrations across a restart', () => {
    const first = reopen();
    for (const r of [child1, nested, app, reg('device/gone//', { '@type': 'child-device' })]) {
      first.store.register(r);
      first.persistence.append({ op: 'register', registration: r });
    }
    first.store.deregister('device/gone//');
    first.persistence.append({ op: 'deregister', topicId: 'device/gone//' });
    first.persistence.close();

    const second = reopen();
    assert.equal(second.restored, 3);
    assert.equal(second.skipped, 0);
    assert.deepEqual(second.store.registrations(), [child1, nested, app]);
    second.persistence.close();
  });

  it('skips and counts corrupt lines, including a torn last line, and keeps the rest', () => {
    const path = join(dir, ENTITY_STORE_FILE);
    writeFileSync(
      path,
      [
        formatEvent({ op: 'register', registration: child1 }),
        '{"op":"register","topic_id":"device/bad//","registration":{"@type":"spaceship"}}',
        'not json at all',
        '{"op":"rename","topic_id":"device/child1//"}',
        formatEvent({ op: 'register', registration: nested }),
        '{"op":"register","topic_id":"device/orphan//","registration":{"@type":"child-device","@parent":"device/missing//"}}',
        '{"op":"register","topic_id":"device/torn',
      ].join('\n'),
    );
    const { store, persistence, skipped, restored } = reopen();
    persistence.close();
    assert.equal(skipped, 5);
    assert.equal(restored, 2);
    assert.deepEqual(store.registrations(), [child1, nested]);
    // Compacted at start: only what was restored remains, one line each, and the file ends with a newline.
    assert.equal(readFileSync(path, 'utf8'), `${formatEvent({ op: 'register', registration: child1 })}\n${formatEvent({ op: 'register', registration: nested })}\n`);
  });

  it('appends after a compaction on a line of its own', () => {
    const path = join(dir, ENTITY_STORE_FILE);
    writeFileSync(path, `${formatEvent({ op: 'register', registration: child1 })}\n{"torn`);
    const first = reopen();
    first.persistence.append({ op: 'register', registration: app });
    first.persistence.close();
    const second = reopen();
    assert.equal(second.skipped, 0);
    assert.deepEqual(second.store.registrations(), [child1, app]);
    second.persistence.close();
  });

  it('ignores and rewrites the file on a clean start', () => {
    writeFileSync(join(dir, ENTITY_STORE_FILE), `${formatEvent({ op: 'register', registration: child1 })}\n`);
    const { store, persistence, restored } = reopen(true);
    persistence.close();
    assert.equal(restored, 0);
    assert.deepEqual(store.registrations(), []);
    assert.equal(readFileSync(join(dir, ENTITY_STORE_FILE), 'utf8'), '');
  });

  it('creates the state directory and leaves no temporary file behind', () => {
    const nestedDir = join(dir, 'a', 'b');
    const persistence = new EntityPersistence(nestedDir, silentLogger());
    persistence.open(new EntityStore(), { clean: false });
    persistence.close();
    assert.ok(existsSync(join(nestedDir, ENTITY_STORE_FILE)));
    assert.equal(existsSync(join(nestedDir, `${ENTITY_STORE_FILE}.tmp`)), false);
  });

  it('fails with an IO error naming the file when the state directory cannot be created', () => {
    const blocker = join(dir, 'file');
    appendFileSync(blocker, 'x');
    const persistence = new EntityPersistence(join(blocker, 'state'), silentLogger());
    assert.throws(() => persistence.open(new EntityStore(), { clean: false }), (e: unknown) => e instanceof Error && 'code' in e && e.code === 'IO' && /agent\.state\.path/.test(e.message));
  });

  it('compacts the log once appends far outnumber the entities', () => {
    const { store, persistence } = reopen();
    store.register(child1);
    for (let i = 0; i < 1001; i++) persistence.append({ op: 'register', registration: child1 });
    persistence.close();
    const lines = readFileSync(join(dir, ENTITY_STORE_FILE), 'utf8').split('\n').filter((l) => l !== '');
    assert.ok(lines.length < 10, `lines after compaction: ${lines.length}`);
  });
});
