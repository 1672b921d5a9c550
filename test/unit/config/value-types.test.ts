import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { durationMs, parseValue, type ValueType } from '../../../src/config/value-types';

describe('durations, as thin-edge reads them (seconds or humantime)', () => {
  const good: Array<[string, number]> = [
    ['300', 300_000],
    ['0', 0],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h 30m', 5_400_000],
    ['1h30m', 5_400_000],
    ['2days', 172_800_000],
    ['1 hour', 3_600_000],
    ['500ms', 500],
    ['365d', 31_536_000_000],
    ['1w', 604_800_000],
    ['10min 5sec', 605_000],
  ];
  for (const [text, ms] of good) it(`'${text}' is ${ms} ms`, () => assert.equal(durationMs(text), ms));
  for (const text of ['', 'soon', '5 parsecs', '1.5h', '-5s', 'h', '5s garbage']) {
    it(`'${text}' is refused`, () => assert.throws(() => durationMs(text), /expected a duration/));
  }
});

describe('value types are checked at set time', () => {
  const cases: Array<[ValueType, string, boolean, (readonly string[])?]> = [
    ['ip-address', '127.0.0.1', true],
    ['ip-address', '0.0.0.0', true],
    ['ip-address', '::1', true],
    ['ip-address', 'localhost', false],
    ['ip-address', '256.1.1.1', false],
    ['path', '/etc/tedge/device-certs/x.pem', true],
    ['path', 'device-certs/x.pem', false],
    ['path', '', false],
    ['enum', 'basic', true, ['certificate', 'basic', 'auto']],
    ['enum', 'Basic', false, ['certificate', 'basic', 'auto']],
    ['boolean', 'true', true],
    ['boolean', 'yes', false],
    ['boolean', 'TRUE', false],
    ['port', '1', true],
    ['port', '65535', true],
    ['port', '0', false],
    ['port', '65536', false],
    ['port', '80a', false],
    ['duration', '1h 30m', true],
    ['duration', 'an hour', false],
    ['topic-prefix', 'c8y-second', true],
    ['topic-prefix', 'c8y/#', false],
    ['topic-prefix', 'c8y-internal', false],
    ['topic-prefix', '', false],
    ['host-port', 'example.com:8883', true],
    ['host-port', 'example.com', false],
    ['string-list', 'a, b,,c', true],
  ];
  for (const [type, text, ok, values] of cases) {
    it(`${type} '${text}' is ${ok ? 'accepted' : 'refused, naming the key'}`, () => {
      if (ok) assert.doesNotThrow(() => parseValue('k.x', type, text, values === undefined ? {} : { values }));
      else assert.throws(() => parseValue('k.x', type, text, values === undefined ? {} : { values }), new RegExp(`invalid value '${text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}' for 'k\\.x': expected`));
    });
  }

  it('an enum names its words', () => {
    assert.throws(() => parseValue('c8y.auth_method', 'enum', 'token', { values: ['certificate', 'basic', 'auto'] }), /expected one of: certificate, basic, auto/);
  });

  it('a list is split on commas and trimmed', () => {
    assert.deepEqual(parseValue('c8y.topics', 'string-list', ' a, b,,c '), ['a', 'b', 'c']);
  });
});
