import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BuiltinStep } from '../../../src/flows/builtins';
import type { FlowMessage } from '../../../src/flows/flow-message';
import { KvStore } from '../../../src/flows/kv-store';

const T = Date.UTC(2025, 7, 7, 12, 47, 26, 152);
const enc = new TextEncoder();
const dec = new TextDecoder();

function run(name: string, config: Record<string, unknown>, lines: [string, string][], mapper = new KvStore()): string[] {
  const step = new BuiltinStep(name, config, 1000, { mapper, flow: new KvStore(), script: new KvStore() });
  const msgs: FlowMessage[] = lines.map(([topic, payload]) => ({ topic, payload: enc.encode(payload), time: T }));
  const o = step.onMessages(msgs);
  return [...o.outputs.map((m) => `[${m.topic}] ${dec.decode(m.payload)}`), ...o.failures.map((f) => `error ${f.topic}: ${f.error}`)];
}

describe('builtin steps', () => {
  const table: [string, Record<string, unknown>, [string, string][], string[]][] = [
    ['add-timestamp', { format: 'rfc3339' }, [['t', '{"a":1}']], ['[t] {"a":1,"time":"2025-08-07T12:47:26.152Z"}']],
    ['add-timestamp', {}, [['t', '{"a":1}']], ['[t] {"a":1,"time":1754570846.152}']],
    ['add-timestamp', { format: 'unix' }, [['t', '{"time":"2025-08-07T12:47:26Z"}']], ['[t] {"time":"2025-08-07T12:47:26Z"}']],
    ['add-timestamp', { format: 'unix', reformat: true }, [['t', '{"time":"2025-08-07T12:47:26Z"}']], ['[t] {"time":1754570846}']],
    // As thin-edge's: what is not a JSON object passes untouched.
    ['add-timestamp', {}, [['t', 'nope'], ['u', '[1]'], ['v', '']], ['[t] nope', '[u] [1]', '[v] ']],
    ['ignore-topics', { topics: ['te/device/main/service/mosquitto-c8y-bridge/#'] }, [['te/device/main/service/mosquitto-c8y-bridge/status/health', '1'], ['a', 'x']], ['[a] x']],
    ['limit-payload-size', { max_size: 3 }, [['a', '123'], ['b', '1234']], ['[a] 123', 'error b: The payload is 4 bytes, above the limit of 3 bytes (limit-payload-size.max_size)']],
    ['limit-payload-size', { max_size: 3, discard: true }, [['a', '123'], ['b', '1234']], ['[a] 123']],
    ['require-json-object', {}, [['a', '{"t":1}'], ['b', ''], ['c', '[1]'], ['d', 'nope']], ['[a] {"t":1}', '[b] ', 'error c: Invalid JSON: invalid type: sequence, expected a JSON object', 'error d: Invalid JSON: Unexpected token \'o\', "nope" is not valid JSON']],
    ['set-topic', { topic: 'c8y/measurement/measurements/create' }, [['a', 'x']], ['[c8y/measurement/measurements/create] x']],
    ['skip-mosquitto-health-status', {}, [['te/device/main/service/mosquitto-c8y-bridge/status/health', '1'], ['te/device/main/service/x/status/health', '{"status":"up"}']], ['[te/device/main/service/x/status/health] {"status":"up"}']],
    ['set-aws-topic', {}, [['te/device/child/service/svc/e/login', '{}'], ['te/device/main///twin/x', '{}']], ['[aws/td/device:child:service:svc/e/login] {}', "error te/device/main///twin/x: No AWS topic for 'te/device/main///twin/x': only te/<entity>/m/<type>, e/<type>, a/<type> and status/health are mapped"]],
    ['into-c8y-measurements', {}, [['te/device/main///m/environment', '{ "temperature": 29 }'], ['te/device/unknown///m/env', '{"t":1}']], ['[c8y/measurement/measurements/create] {"type":"environment","time":"2025-08-07T12:47:26.152Z","temperature":{"temperature":{"value":29}}}']],
    ['into-c8y-events', {}, [['te/device/main///e/login', '{"text":"hi"}'], ['te/device/main///e/x', '{"text":"hi","extra":1}']], ['[c8y/s/us] 400,login,"hi",2025-08-07T12:47:26.152Z', '[c8y/event/events/create] {"type":"x","text":"hi","time":"2025-08-07T12:47:26.152Z","extra":1}']],
    ['into-c8y-alarms', {}, [['te/device/main///a/hot', '{"text":"hot","severity":"major"}'], ['te/device/main///a/hot', '']], ['[c8y/s/us] 302,hot,hot,2025-08-07T12:47:26.152Z', '[c8y/s/us] 306,hot']],
  ];
  for (const [name, config, input, expected] of table) {
    it(`${name} ${JSON.stringify(config)} ${JSON.stringify(input)}`, () => assert.deepEqual(run(name, config, input), expected));
  }

  it('update-context stores JSON under the topic; into-c8y-measurements uses registrations and units from the context', () => {
    const mapper = new KvStore();
    const registration = '{"@id":"raspberry-007-child-xyz","@type":"child-device"}';
    assert.deepEqual(run('update-context', { topics: ['te/+/+/+/+', 'te/+/+/+/+/m/+/meta'] }, [['te/device/child-xyz//', registration], ['te/device/child-xyz///m/env/meta', '{"t":{"unit":"C"}}'], ['other', 'x']], mapper), ['[other] x']);
    assert.equal(mapper.get('te/device/child-xyz//'), JSON.stringify(JSON.parse(registration)));
    // The registration is keyed by its entity topic id, as the c8y mapper's context does.
    mapper.set('device/child-xyz//', registration);
    mapper.set('te/device/child-xyz///m/env/meta', '{"t":{"unit":"C"}}');
    assert.deepEqual(run('into-c8y-measurements', {}, [['te/device/child-xyz///m/env', '{"t":1}']], mapper), [
      '[c8y/measurement/measurements/create] {"externalSource":{"externalId":"raspberry-007-child-xyz","type":"c8y_Serial"},"type":"env","time":"2025-08-07T12:47:26.152Z","t":{"t":{"value":1,"unit":"C"}}}',
    ]);
  });

  it('group-measurements merges one topic within the window; a conflict or the interval closes the batch', () => {
    const step = new BuiltinStep('group-measurements', { time_window: '500ms' }, 1000, { mapper: new KvStore(), flow: new KvStore(), script: new KvStore() });
    const msg = (topic: string, payload: string): FlowMessage => ({ topic, payload: enc.encode(payload), time: T });
    const o = step.onMessages([msg('m', '{"a":1,"time":1754570846}'), msg('m', '{"b":2,"time":1754570846.2}'), msg('m', '{"a":3,"time":1754570846.3}'), msg('x', 'raw')]);
    assert.deepEqual(o.outputs.map((m) => `[${m.topic}] ${dec.decode(m.payload)}`), ['[m] {"a":1,"b":2,"time":1754570846}', '[x] raw']);
    assert.deepEqual(step.onInterval(T + 100).outputs, []);
    assert.deepEqual(step.onInterval(T + 1000).outputs.map((m) => dec.decode(m.payload)), ['{"a":3,"time":1754570846.3}']);
  });

  it('cache-early-messages holds the messages of an unregistered entity until the context knows it', () => {
    const mapper = new KvStore();
    const step = new BuiltinStep('cache-early-messages', {}, 1000, { mapper, flow: new KvStore(), script: new KvStore() });
    const msg = (topic: string, payload: string): FlowMessage => ({ topic, payload: enc.encode(payload), time: T });
    const first = step.onMessages([msg('te/device/c1///m/env', '{"t":1}'), msg('te/device/main///m/env', '{"t":2}'), msg('te/device/c1//', '{"@type":"child-device"}')]);
    assert.deepEqual(first.outputs.map((m) => m.topic), ['te/device/main///m/env', 'te/device/c1//']);
    assert.deepEqual(step.onInterval(T).outputs, []);
    mapper.set('device/c1//', '{"@id":"c1"}');
    assert.deepEqual(step.onInterval(T).outputs.map((m) => `[${m.topic}] ${dec.decode(m.payload)}`), ['[te/device/c1///m/env] {"t":1}']);
    // The final onInterval (a stop): the registered are released, the others reported as dropped.
    step.onMessages([msg('te/device/c2///m/env', '{"t":3}'), msg('te/device/c3///m/env', '{"t":4}')]);
    mapper.set('device/c3//', '{"@id":"c3"}');
    const final = step.onInterval(T, true);
    assert.deepEqual(final.outputs.map((m) => m.topic), ['te/device/c3///m/env']);
    assert.deepEqual(final.failures, [{ step: 'cache-early-messages', topic: 'onInterval', error: '1 message(s) of entities never registered are dropped as the flow ends: device/c2//' }]);
  });

  it('group-measurements: the final onInterval closes every batch, however young', () => {
    const step = new BuiltinStep('group-measurements', { time_window: '1h' }, 1000, { mapper: new KvStore(), flow: new KvStore(), script: new KvStore() });
    step.onMessages([{ topic: 'm', payload: enc.encode('{"a":1}'), time: T }, { topic: 'n', payload: enc.encode('{"b":2}'), time: T }]);
    assert.deepEqual(step.onInterval(T + 1000).outputs, []);
    assert.deepEqual(step.onInterval(T + 1000, true).outputs.map((m) => `[${m.topic}] ${dec.decode(m.payload)}`), [`[m] {"a":1,"time":${T / 1000}}`, `[n] {"b":2,"time":${T / 1000}}`]);
    assert.deepEqual(step.onInterval(T + 2000, true).outputs, [], 'released once');
  });

  it('into-c8y-health-status: a registered service → 102 on its parent topic; others dropped', () => {
    const mapper = new KvStore();
    mapper.set('device/main/service/app', '{"@id":"dev:device:main:service:app","@type":"service"}');
    mapper.set('device/child//', '{"@id":"dev:device:child","@type":"child-device"}');
    mapper.set('device/child/service/db', '{"@id":"dev:device:child:service:db","@type":"service","@parent":"device/child//","type":"systemd","name":"postgres"}');
    assert.deepEqual(run('into-c8y-health-status', {}, [
      ['te/device/main/service/app/status/health', '{"status":"up"}'],
      ['te/device/child/service/db/status/health', '0'],
      ['te/device/main/service/unknown/status/health', '{"status":"up"}'],
      ['te/device/main///m/x', '{}'],
    ], mapper), [
      '[c8y/s/us] 102,dev:device:main:service:app,service,app,up',
      '[c8y/s/us/dev:device:child] 102,dev:device:child:service:db,systemd,postgres,down',
      '[te/device/main///m/x] {}',
    ]);
  });

  it('refuses unknown builtins and bad config', () => {
    assert.throws(() => run('nope', {}, []), /unknown builtin step 'nope'/);
    assert.throws(() => run('set-topic', {}, []), /set-topic: config.topic must be a string/);
    assert.throws(() => run('limit-payload-size', { max_size: 'big' }, []), /max_size must be a number/);
  });
});
