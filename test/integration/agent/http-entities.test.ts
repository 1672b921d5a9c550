import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpAgentUnderTest } from '../../helpers/agent-http';
import type { BusProbe } from '../../helpers/bus-probe';

const JSON_BODY = { 'content-type': 'application/json' };

/** The retained payload a fresh subscriber gets on `topic`, or undefined when nothing is retained. */
async function retained(t: HttpAgentUnderTest, topic: string): Promise<string | undefined> {
  const p = await t.probe([topic]);
  // Anything retained arrives right after the subscription; a marker message behind it bounds the wait.
  const marker = `tedge-ts/test-marker/${Math.random()}`;
  const m = await t.probe([marker]);
  await m.publish(marker, 'x');
  await m.waitFor((r) => r.some((x) => x.topic === marker), 'the marker');
  await new Promise((r) => setTimeout(r, 100));
  const found = p.received.filter((x) => x.topic === topic && x.retain === true).map((x) => Buffer.from(x.payload).toString());
  const last = found.at(-1);
  return last === undefined || last === '' ? undefined : last;
}

describe('entity and twin HTTP API (tedge-agent process, real mosquitto)', () => {
  let t: HttpAgentUnderTest;
  let bus: BusProbe;
  before(async () => {
    t = await HttpAgentUnderTest.start();
    bus = await t.probe(['te/#']);
  });
  after(async () => {
    await t?.stop();
  });

  const post = (body: unknown): ReturnType<HttpAgentUnderTest['request']> => t.request('POST', '/te/v1/entities', { body: JSON.stringify(body), headers: JSON_BODY });

  it('POST registers an entity (201), publishes its retained registration and twin data, and GET shows it', async () => {
    const r = await post({ '@topic-id': 'device/child01//', '@type': 'child-device', name: 'child01' });
    assert.equal(r.status, 201, r.text());
    assert.deepEqual(r.json(), { '@topic-id': 'device/child01//' });
    const reg = await bus.waitForText('te/device/child01//');
    assert.deepEqual(JSON.parse(reg), { '@type': 'child-device', '@parent': 'device/main//', name: 'child01' });
    await bus.waitForText('te/device/child01///twin/name', (x) => x === '"child01"');

    for (const path of ['device/child01//', 'device/child01', 'device/child01/']) {
      const get = await t.request('GET', `/te/v1/entities/${path}`);
      assert.equal(get.status, 200);
      assert.equal(get.text(), '{"@topic-id":"device/child01//","@parent":"device/main//","@type":"child-device"}');
    }
    assert.equal(await retained(t, 'te/device/child01//'), reg);
  });

  it('POST refuses a duplicate (409), an unknown parent and bad bodies (400) with a JSON error', async () => {
    const dup = await post({ '@topic-id': 'device/child01//', '@type': 'child-device' });
    assert.equal(dup.status, 409);
    assert.deepEqual(dup.json(), { error: 'An entity with topic id: device/child01// is already registered' });
    const orphan = await post({ '@topic-id': 'device/orphan//', '@type': 'child-device', '@parent': 'device/nobody//' });
    assert.equal(orphan.status, 400);
    assert.deepEqual(orphan.json(), { error: 'The specified parent "device/nobody//" does not exist in the entity store' });
    const cases: Array<[string, RegExp]> = [
      ['not json', /Invalid JSON|expected|Unexpected/],
      ['[1,2]', /expected an entity registration object/],
      ['{"@type":"child-device"}', /missing field `@topic-id`/],
      ['{"@topic-id":"device/x","@type":"child-device"}', /exactly 4 segments/],
      ['{"@topic-id":"device/x//","@type":"gateway"}', /"@type" must be one of/],
      ['{"@topic-id":"device/x//","@type":"device"}', /reserved for the main device/],
      ['', /EOF/],
    ];
    for (const [body, why] of cases) {
      const r = await t.request('POST', '/te/v1/entities', { body, headers: JSON_BODY });
      assert.equal(r.status, 400, `${body} → ${r.status} ${r.text()}`);
      assert.match(String((r.json() as { error: string }).error), why, body);
    }
    const huge = await t.request('POST', '/te/v1/entities', { body: `{"@topic-id":"device/big//","@type":"child-device","x":"${'x'.repeat(1024 * 1024)}"}`, headers: JSON_BODY });
    assert.equal(huge.status, 413);
    assert.equal((await t.request('GET', '/te/v1/entities/device/orphan//')).status, 404);
    assert.equal((await t.request('GET', '/te/v1/entities/device/big//')).status, 404);
  });

  it('an MQTT registration is visible over HTTP', async () => {
    await bus.publish('te/device/mqtt-child//', '{"@type":"child-device","@id":"xid-1"}', { retain: true });
    await bus.publish('te/device/mqtt-child/service/app', '{"@type":"service"}', { retain: true });
    let get = await t.request('GET', '/te/v1/entities/device/mqtt-child');
    for (let i = 0; i < 50 && get.status === 404; i++) {
      await new Promise((r) => setTimeout(r, 50));
      get = await t.request('GET', '/te/v1/entities/device/mqtt-child');
    }
    assert.equal(get.text(), '{"@topic-id":"device/mqtt-child//","@parent":"device/main//","@type":"child-device","@id":"xid-1"}');
    const svc = await t.request('GET', '/te/v1/entities/device/mqtt-child/service/app');
    assert.deepEqual(svc.json(), { '@topic-id': 'device/mqtt-child/service/app', '@parent': 'device/mqtt-child//', '@type': 'service' });
  });

  it('GET /te/v1/entities lists the tree with root, parent and type queries', async () => {
    for (const [id, type, parent] of [
      ['device/q2//', 'child-device', 'device/main//'],
      ['device/q2/service/s20', 'service', 'device/q2//'],
      ['device/q20//', 'child-device', 'device/q2//'],
      ['device/q21//', 'child-device', 'device/q2//'],
      ['device/q200//', 'child-device', 'device/q20//'],
    ] as const) {
      assert.equal((await post({ '@topic-id': id, '@type': type, '@parent': parent })).status, 201, id);
    }
    const ids = async (query: string): Promise<string[]> => {
      const r = await t.request('GET', `/te/v1/entities${query}`);
      assert.equal(r.status, 200, `${query}: ${r.text()}`);
      return (r.json() as Array<{ '@topic-id': string }>).map((e) => e['@topic-id']);
    };
    const all = await ids('');
    assert.equal(all[0], 'device/main//');
    for (const id of ['device/child01//', 'device/mqtt-child//', 'device/q2//', 'device/q200//', 'device/main/service/tedge-agent']) assert.ok(all.includes(id), id);
    assert.deepEqual(await ids('?root=device/q2//'), ['device/q2//', 'device/q2/service/s20', 'device/q20//', 'device/q21//', 'device/q200//']);
    assert.deepEqual(await ids('?parent=device/q2//'), ['device/q2/service/s20', 'device/q20//', 'device/q21//']);
    assert.deepEqual(await ids('?parent=device/q2//&type=child-device'), ['device/q20//', 'device/q21//']);
    assert.deepEqual(await ids('?root=device/q2//&type=service'), ['device/q2/service/s20']);
    assert.deepEqual(await ids('?type=main'), ['device/main//']);
    assert.deepEqual(await ids('?root=device/unknown//'), []);
    const both = await t.request('GET', '/te/v1/entities?root=device/q2//&parent=device/main//');
    assert.equal(both.status, 400);
    assert.deepEqual(both.json(), { error: 'The provided parameters: root and parent are mutually exclusive. Use either one.' });
    assert.equal((await t.request('GET', '/te/v1/entities?type=gateway')).status, 400);
  });

  it('PATCH changes @parent and @health, republishes the registration, and refuses what thin-edge refuses', async () => {
    const patch = (id: string, body: string): ReturnType<HttpAgentUnderTest['request']> => t.request('PATCH', `/te/v1/entities/${id}`, { body, headers: JSON_BODY });
    const moved = await patch('device/q21//', '{"@parent":"device/q20//"}');
    assert.equal(moved.status, 200, moved.text());
    assert.equal(moved.text(), '{"@topic-id":"device/q21//","@parent":"device/q20//","@type":"child-device"}');
    const reg = await bus.waitForText('te/device/q21//', (x) => x.includes('"device/q20//"'));
    assert.deepEqual(JSON.parse(reg), { '@type': 'child-device', '@parent': 'device/q20//' });

    const health = await patch('device/q2//', '{"@health":"device/q2/service/s20"}');
    assert.equal(health.status, 200, health.text());
    assert.deepEqual(health.json(), { '@topic-id': 'device/q2//', '@parent': 'device/main//', '@type': 'child-device', '@health': 'device/q2/service/s20' });
    await bus.waitForText('te/device/q2//', (x) => x.includes('"@health":"device/q2/service/s20"'));

    const refused: Array<[string, string, number, string]> = [
      ['device/q2//', '{"@parent":"device/q2//"}', 400, "Entity: 'device/q2//' can not be its own parent"],
      ['device/q20//', '{"@parent":"device/q2/service/s20"}', 400, "Entity: 'device/q2/service/s20' can not be a parent of 'device/q20//' because it is a service. Only devices can be parents"],
      ['device/main//', '{"@parent":"device/q2//"}', 400, 'The parent of main device can not be updated'],
      ['device/q2//', '{"@parent":"device/q200//"}', 400, "Entity: 'device/q200//' can not be a parent of 'device/q2//' because 'device/q200//' is a descendent of 'device/q2//'"],
      ['device/q2//', '{"@type":"service"}', 400, 'unknown field `@type`, expected `@parent` or `@health`'],
      ['device/q2//', '{"@parent":"device/unknown//"}', 400, 'The specified parent "device/unknown//" does not exist in the entity store'],
      ['device/q2//', '{"@health":"device/unknown//"}', 400, 'The specified health endpoint: device/unknown// does not exist in the entity store'],
      ['device/nobody//', '{"@parent":"device/q2//"}', 404, 'The specified entity: device/nobody// does not exist in the entity store'],
    ];
    for (const [id, body, status, error] of refused) {
      const r = await patch(id, body);
      assert.equal(r.status, status, `${id} ${body}: ${r.text()}`);
      assert.deepEqual(r.json(), { error });
    }
  });

  it('DELETE removes the entity and its descendants (200 with them), clears them on MQTT; 204 when nothing', async () => {
    const before = bus.received.length;
    const r = await t.request('DELETE', '/te/v1/entities/device/q2');
    assert.equal(r.status, 200, r.text());
    const removed = (r.json() as Array<{ '@topic-id': string }>).map((e) => e['@topic-id']).sort();
    assert.deepEqual(removed, ['device/q2//', 'device/q2/service/s20', 'device/q20//', 'device/q200//', 'device/q21//'].sort());
    for (const id of removed) {
      await bus.waitFor((all) => all.slice(before).some((m) => m.topic === `te/${id}` && m.payload.length === 0), `the cleared registration of ${id}`);
      assert.equal((await t.request('GET', `/te/v1/entities/${id}`)).status, 404);
      assert.equal(await retained(t, `te/${id}`), undefined);
    }
    const again = await t.request('DELETE', '/te/v1/entities/device/q2');
    assert.equal(again.status, 204);
    const list = (await t.request('GET', '/te/v1/entities')).json() as Array<{ '@topic-id': string }>;
    assert.equal(list.some((e) => e['@topic-id'].startsWith('device/q2')), false);
  });

  it('an MQTT deregistration is visible over HTTP, descendants included', async () => {
    await bus.publish('te/device/mqtt-child//', '', { retain: true });
    let status = 200;
    for (let i = 0; i < 50 && status === 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await t.request('GET', '/te/v1/entities/device/mqtt-child/service/app')).status;
    }
    assert.equal(status, 404);
    assert.equal((await t.request('GET', '/te/v1/entities/device/mqtt-child//')).status, 404);
  });

  it('twin fragments: PUT publishes retained, GET reads, PUT null and DELETE clear, consistent with MQTT', async () => {
    const base = '/te/v1/entities/device/main///twin';
    const put = await t.request('PUT', `${base}/maintenance_window`, { body: '5', headers: JSON_BODY });
    assert.equal(put.status, 200);
    assert.equal(put.text(), '5');
    await bus.waitForText('te/device/main///twin/maintenance_window', (x) => x === '5');
    assert.equal(await retained(t, 'te/device/main///twin/maintenance_window'), '5');
    const get = await t.request('GET', `${base}/maintenance_window`);
    assert.equal(get.status, 200);
    assert.equal(get.text(), '5');

    const del = await t.request('DELETE', `${base}/maintenance_window`);
    assert.equal(del.status, 204);
    assert.equal(await retained(t, 'te/device/main///twin/maintenance_window'), undefined);
    assert.equal((await t.request('GET', `${base}/maintenance_window`)).status, 404);
    assert.equal((await t.request('DELETE', `${base}/maintenance_window`)).status, 204);

    assert.equal((await t.request('PUT', `${base}/hardware`, { body: '{"serialNo":"98761234"}', headers: JSON_BODY })).status, 200);
    assert.equal(await retained(t, 'te/device/main///twin/hardware'), '{"serialNo":"98761234"}');
    const cleared = await t.request('PUT', `${base}/hardware`, { body: 'null', headers: JSON_BODY });
    assert.equal(cleared.status, 200);
    assert.equal(await retained(t, 'te/device/main///twin/hardware'), undefined);
    assert.equal((await t.request('GET', `${base}/hardware`)).status, 404);
  });

  it('a twin message on MQTT is visible over HTTP', async () => {
    await bus.publish('te/device/child01///twin/firmware', '{"version":"1.2.3"}', { retain: true });
    let r = await t.request('GET', '/te/v1/entities/device/child01///twin/firmware');
    for (let i = 0; i < 50 && r.status === 404; i++) {
      await new Promise((res) => setTimeout(res, 50));
      r = await t.request('GET', '/te/v1/entities/device/child01///twin/firmware');
    }
    assert.deepEqual(r.json(), { version: '1.2.3' });
    const all = await t.request('GET', '/te/v1/entities/device/child01///twin');
    assert.equal(all.text(), '{"firmware":{"version":"1.2.3"},"name":"child01"}');
    await bus.publish('te/device/child01///twin/firmware', '', { retain: true });
    for (let i = 0; i < 50 && r.status === 200; i++) {
      await new Promise((res) => setTimeout(res, 50));
      r = await t.request('GET', '/te/v1/entities/device/child01///twin/firmware');
    }
    assert.equal(r.status, 404);
  });

  it('PUT /twin replaces all fragments: changed ones published, missing and null ones cleared; DELETE /twin clears all', async () => {
    const base = '/te/v1/entities/device/main///twin';
    const first = '{"maintainer":"John Doe","maintenance_mode":true,"maintenance_window":5}';
    const r1 = await t.request('PUT', base, { body: first, headers: JSON_BODY });
    assert.equal(r1.status, 200);
    assert.equal(r1.text(), first);
    assert.equal((await t.request('GET', base)).text(), first);
    assert.equal(await retained(t, 'te/device/main///twin/maintenance_mode'), 'true');

    const mark = bus.received.length;
    const second = '{"last_serviced":"2025-01-01","maintainer":"John Doe","maintenance_mode":false,"gone":null}';
    const r2 = await t.request('PUT', base, { body: second, headers: JSON_BODY });
    assert.equal(r2.status, 200);
    assert.equal(r2.text(), '{"last_serviced":"2025-01-01","maintainer":"John Doe","maintenance_mode":false}');
    await bus.waitForText('te/device/main///twin/maintenance_mode', (x) => x === 'false');
    assert.equal(await retained(t, 'te/device/main///twin/maintenance_window'), undefined);
    assert.equal(await retained(t, 'te/device/main///twin/last_serviced'), '"2025-01-01"');
    // An unchanged fragment is not republished.
    assert.equal(bus.received.slice(mark).some((m) => m.topic === 'te/device/main///twin/maintainer'), false);

    assert.equal((await t.request('DELETE', base)).status, 204);
    assert.equal(await retained(t, 'te/device/main///twin/maintainer'), undefined);
    assert.equal((await t.request('GET', base)).text(), '{}');
    assert.equal((await t.request('DELETE', base)).status, 204);
  });

  it('twin requests refused: unknown entity 404, bad key or body 400, other methods 405', async () => {
    const unknown = await t.request('GET', '/te/v1/entities/device/bad-child///twin');
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.json(), { error: 'The specified entity: device/bad-child// does not exist in the entity store' });
    assert.equal((await t.request('PUT', '/te/v1/entities/device/bad-child///twin/x', { body: '1' })).status, 404);
    const notMap = await t.request('PUT', '/te/v1/entities/device/main///twin', { body: 'true' });
    assert.equal(notMap.status, 400);
    assert.match(String((notMap.json() as { error: string }).error), /expected a map/);
    assert.equal((await t.request('PUT', '/te/v1/entities/device/main///twin/multi/path/key', { body: 'true' })).status, 400);
    assert.equal((await t.request('PUT', '/te/v1/entities/device/main///twin/@reserved', { body: 'true' })).status, 400);
    assert.equal((await t.request('PUT', '/te/v1/entities/device/main///twin', { body: '{"@id":"x"}' })).status, 400);
    for (const bad of ['1.2.3', '1-2', 'true true', '{"a":1}{"b":2}']) {
      assert.equal((await t.request('PUT', '/te/v1/entities/device/main///twin/test_key', { body: bad })).status, 400, bad);
    }
    const patch = await t.request('PATCH', '/te/v1/entities/device/main///twin', { body: '{}' });
    assert.equal(patch.status, 405);
    assert.deepEqual(patch.json(), { error: 'Method Not Allowed' });
    const cmd = await t.request('GET', '/te/v1/entities/device/bad-child///cmd/123');
    assert.equal(cmd.status, 404);
    assert.deepEqual(cmd.json(), { error: 'Actions on channel: cmd are not supported' });
  });

  it('deregistering an entity clears its retained twin fragments too', async () => {
    assert.equal((await post({ '@topic-id': 'device/twinny//', '@type': 'child-device', name: 'twinny' })).status, 201);
    assert.equal((await t.request('PUT', '/te/v1/entities/device/twinny///twin/x', { body: '1' })).status, 200);
    assert.equal(await retained(t, 'te/device/twinny///twin/x'), '1');
    assert.equal((await t.request('DELETE', '/te/v1/entities/device/twinny//')).status, 200);
    assert.equal(await retained(t, 'te/device/twinny///twin/x'), undefined);
    assert.equal(await retained(t, 'te/device/twinny///twin/name'), undefined);
  });

  it('GET …/config serves what an entity exposes on te/<id>/config (read-only)', async () => {
    const base = '/te/v1/entities/device/main/service/tedge-agent/config';
    await bus.publish('te/device/main/service/tedge-agent/config', '{"device.id":"my-device-01","mqtt.client.port":1883}', { retain: true });
    let all = await t.request('GET', base);
    for (let i = 0; i < 50 && all.text() === '{}'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      all = await t.request('GET', base);
    }
    assert.deepEqual(all.json(), { 'device.id': 'my-device-01', 'mqtt.client.port': 1883 });
    assert.equal((await t.request('GET', `${base}/mqtt.client.port`)).text(), '1883');
    const missing = await t.request('GET', `${base}/nope`);
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json(), { error: 'Configuration value for entity: device/main/service/tedge-agent with key: nope not found' });
    assert.equal((await t.request('PUT', `${base}/device.id`, { body: '"x"' })).status, 405);
    assert.equal((await t.request('GET', '/te/v1/entities/device/nobody///config')).status, 404);
    await bus.publish('te/device/main/service/tedge-agent/config', '', { retain: true });
  });

  it('the agent is still up after all of it', async () => {
    assert.equal(t.agent.exited, false);
    assert.equal((await t.request('GET', '/te/v1/entities/device/main//')).status, 200);
  });
});
