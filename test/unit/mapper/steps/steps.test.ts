import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { message } from '../../../../src/core/message';
import { parseTimeFormat } from '../../../../src/mapper/steps/add-timestamp';
import { appendTopLevelMember, setTopLevelMember, topLevelMembers } from '../../../../src/mapper/steps/json-members';
import { isMosquittoBridgeHealth } from '../../../../src/mapper/steps/mosquitto-health';

describe('json-members: one top-level member changed, every other byte kept', () => {
  const rows: Array<[string, string, string]> = [
    ['{}', '1', '{"time":1}'],
    ['{ }', '1', '{"time":1 }'],
    ['{"a":1}', '2', '{"a":1,"time":2}'],
    ['{"a":1 ,\n "b" : [1,"]",{"c":"}"}]\n}', '2', '{"a":1 ,\n "b" : [1,"]",{"c":"}"}],"time":2\n}'],
    ['{"time" : "x", "a":1}', '5', '{"time" : 5, "a":1}'],
    ['{"time":1,"time":2}', '3', '{"time":1,"time":3}'],
    ['{"ti\\u006de":"old"}', '3', '{"ti\\u006de":3}'],
    ['{"s":"\\"time\\":1","n":{"time":1}}', '7', '{"s":"\\"time\\":1","n":{"time":1},"time":7}'],
    ['{"a":-1.5e+3}', 'true', '{"a":-1.5e+3,"time":true}'],
  ];
  for (const [input, value, expected] of rows) {
    it(`${input} → ${expected}`, () => {
      const out = setTopLevelMember(input, 'time', value);
      assert.equal(out, expected);
      assert.doesNotThrow(() => JSON.parse(out));
      // add-timestamp's fast path, for an object without the member: the same bytes.
      if (!('time' in (JSON.parse(input) as object))) assert.equal(appendTopLevelMember(input, 'time', value), expected);
    });
  }

  it('lists members with their value spans', () => {
    const text = '{"a":{"x":[1]},"b":"s"}';
    const { members } = topLevelMembers(text);
    assert.deepEqual(members.map((m) => [m.name, text.slice(m.start, m.end)]), [['a', '{"x":[1]}'], ['b', '"s"']]);
  });
});

describe('add-timestamp: time formats', () => {
  it('accepts unix, rfc-3339 and the rfc3339 alias', () => {
    assert.equal(parseTimeFormat('unix', 'k'), 'unix');
    assert.equal(parseTimeFormat('rfc-3339', 'k'), 'rfc-3339');
    assert.equal(parseTimeFormat('rfc3339', 'k'), 'rfc-3339');
  });

  it('refuses anything else, naming the key', () => {
    assert.throws(() => parseTimeFormat('iso8601', 'az.mapper.timestamp_format'), /'az\.mapper\.timestamp_format': unknown time format 'iso8601'/);
  });
});

describe('skip-mosquitto-health-status', () => {
  const rows: Array<[string, string, boolean]> = [
    ['te/device/main/service/mosquitto-c8y-bridge/status/health', '1', true],
    ['te/device/main/service/mosquitto-c8y-bridge/status/health', '0', true],
    ['te/device/main/service/mosquitto-c8y-bridge/status/health', '2', false],
    ['te/device/main/service/mosquitto-c8y-bridge/status/health', '10', false],
    ['te/device/main/service/mosquitto-c8y-bridge/status/health', '{"status":"up"}', false],
    ['te/device/main///m/health', '1', false],
    ['te/device/main/service/x/status/health/extra', '1', false],
  ];
  for (const [topic, payload, skipped] of rows) {
    it(`[${topic}] ${payload} → ${skipped ? 'skipped' : 'kept'}`, () => {
      assert.equal(isMosquittoBridgeHealth(message(topic, payload)), skipped);
    });
  }
});
