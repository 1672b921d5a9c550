import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { message } from '../../../../src/core/message';
import { AzConverter, type AzConverterOptions } from '../../../../src/mapper/az/converter';
import { converterTable, rejectTable } from '../../../helpers/converter-table';

const NOW = new Date('2026-01-02T03:04:05.678Z');
const UNIX = '1767323045.678';
const ISO = '2026-01-02T03:04:05.678Z';
const OUT = 'az/messages/events/';

const OPTIONS: AzConverterOptions = {
  topics: ['te/+/+/+/+/m/+', 'te/+/+/+/+/e/+', 'te/+/+/+/+/a/+', 'te/+/+/+/+/status/health'],
  prefix: 'az',
  timestampFormat: 'unix',
  maxPayloadSize: 262144,
  maxPayloadSizeKey: 'az.mapper.mqtt.max_payload_size',
};
const make = (opts: Partial<AzConverterOptions> = {}) => () => new AzConverter({ ...OPTIONS, ...opts });

describe('az mapper: every te/ telemetry kind goes to az/messages/events/', () => {
  converterTable(make(), NOW, [
    {
      name: 'a main-device measurement gets a unix time (the default format)',
      input: '[te/device/main///m/env] {"temperature":23}',
      output: [`[${OUT}] {"temperature":23,"time":${UNIX}}`],
    },
    {
      name: 'a child measurement loses its topic (Azure has one telemetry topic)',
      input: '[te/device/child01///m/] {"t":1}',
      output: [`[${OUT}] {"t":1,"time":${UNIX}}`],
    },
    {
      name: 'an event is forwarded with its own time',
      input: '[te/device/main/service/app/e/login] {"text":"hi","time":1619802194}',
      output: [`[${OUT}] {"text":"hi","time":1619802194}`],
    },
    {
      name: 'an alarm gets a time',
      input: '[te/device/main///a/hot] {"severity":"major","text":"too hot"}',
      output: [`[${OUT}] {"severity":"major","text":"too hot","time":${UNIX}}`],
    },
    {
      name: 'a service health message gets a time',
      input: '[te/device/main/service/app/status/health] {"status":"up","pid":42}',
      output: [`[${OUT}] {"status":"up","pid":42,"time":${UNIX}}`],
    },
    {
      name: 'an empty payload (a cleared alarm) is forwarded as is',
      input: '[te/device/main///a/hot] ',
      output: [`[${OUT}] `],
    },
    {
      name: 'the measurement grammar is not checked: the cloud gets what the device wrote',
      input: '[te/device/main///m/env] {"temperature":true,"nested":{"a":[1,2]}}',
      output: [`[${OUT}] {"temperature":true,"nested":{"a":[1,2]},"time":${UNIX}}`],
    },
    {
      name: 'every other byte is kept: number formats, big integers, key order, spacing',
      input: '[te/device/main///m/env] { "b": 23.0, "a": 12345678901234567890, "2": 1e3 }',
      output: [`[${OUT}] { "b": 23.0, "a": 12345678901234567890, "2": 1e3,"time":${UNIX} }`],
    },
    {
      name: 'an empty object gets just the time',
      input: '[te/device/main///m/env] {}',
      output: [`[${OUT}] {"time":${UNIX}}`],
    },
    {
      name: 'a "time" inside a group is not the time of the message',
      input: '[te/device/main///m/env] {"g":{"time":"x","s":"}\\"time\\":"}}',
      output: [`[${OUT}] {"g":{"time":"x","s":"}\\"time\\":"},"time":${UNIX}}`],
    },
  ]);
});

describe('az mapper: az.mapper.timestamp and timestamp_format', () => {
  converterTable(make(), NOW, [
    {
      name: 'unix: an RFC 3339 time is reformatted in place',
      input: '[te/device/main///m/env] {"time":"2021-04-30T17:03:14.123+02:00","t":1}',
      output: [`[${OUT}] {"time":1619794994.123,"t":1}`],
    },
    {
      name: 'unix: a unix time is kept byte for byte',
      input: '[te/device/main///m/env] {"time":1619802194.50,"t":1}',
      output: [`[${OUT}] {"time":1619802194.50,"t":1}`],
    },
  ]);
  converterTable(make({ timestampFormat: 'rfc-3339' }), NOW, [
    {
      name: 'rfc-3339: a missing time is added as RFC 3339 UTC',
      input: '[te/device/main///m/env] {"t":1}',
      output: [`[${OUT}] {"t":1,"time":"${ISO}"}`],
    },
    {
      name: 'rfc-3339: a unix time is reformatted',
      input: '[te/device/main///m/env] {"t":1,"time":1619802194}',
      output: [`[${OUT}] {"t":1,"time":"2021-04-30T17:03:14Z"}`],
    },
    {
      name: 'rfc-3339: an RFC 3339 time keeps its offset and precision',
      input: '[te/device/main///e/x] {"time":"2013-06-22T17:03:14.000+02:00"}',
      output: [`[${OUT}] {"time":"2013-06-22T17:03:14.000+02:00"}`],
    },
  ]);
  converterTable(make({ timestampFormat: undefined }), NOW, [
    {
      name: 'timestamp off: no time is added',
      input: '[te/device/main///m/env] {"t":1}',
      output: [`[${OUT}] {"t":1}`],
    },
    {
      name: 'timestamp off: a given time is not reformatted',
      input: '[te/device/main///m/env] {"t":1,"time":"2021-04-30T17:03:14Z"}',
      output: [`[${OUT}] {"t":1,"time":"2021-04-30T17:03:14Z"}`],
    },
  ]);
  converterTable(make({ prefix: 'az2' }), NOW, [
    {
      name: 'the output topic follows az.bridge.topic_prefix',
      input: '[te/device/main///m/env] {"time":1}',
      output: ['[az2/messages/events/] {"time":1}'],
    },
  ]);
});

describe('az mapper: mosquitto bridge health is skipped', () => {
  converterTable(make(), NOW, [
    { name: 'a bare 1 on a bridge health topic', input: '[te/device/main/service/mosquitto-az-bridge/status/health] 1', output: [] },
    { name: 'a bare 0 on a bridge health topic', input: '[te/device/main/service/mosquitto-az-bridge/status/health] 0', output: [] },
    { name: 'a bare 1 from any service (thin-edge judges by shape)', input: '[te/device/main/service/mosquitto-xyz-bridge/status/health] 1', output: [] },
    {
      name: 'a JSON health message of the bridge is forwarded',
      input: '[te/device/main/service/mosquitto-az-bridge/status/health] {"status":"up"}',
      output: [`[${OUT}] {"status":"up","time":${UNIX}}`],
    },
  ]);

  it('counts what it skipped', () => {
    const converter = make()();
    converter.convert(message('te/device/main/service/mosquitto-az-bridge/status/health', '1'), NOW);
    assert.equal(converter.skipped, 1);
  });
});

describe('az mapper: az.mapper.mqtt.max_payload_size', () => {
  const body = (n: number) => `{"time":1,"s":"${'x'.repeat(n - 17)}"}`;
  converterTable(make({ maxPayloadSize: 100 }), NOW, [
    { name: 'a payload of exactly the limit is sent', input: `[te/device/main///m/env] ${body(100)}`, output: [`[${OUT}] ${body(100)}`] },
  ]);
  rejectTable(make({ maxPayloadSize: 100 }), NOW, [
    { name: 'one byte over the limit is refused', input: `[te/device/main///m/env] ${body(101)}`, error: /101 bytes, above the limit of 100 bytes \(az\.mapper\.mqtt\.max_payload_size\)/ },
    { name: 'the limit counts the added time', input: `[te/device/main///m/env] {"s":"${'x'.repeat(85)}"}`, error: /above the limit of 100/ },
  ]);
});

describe('az mapper: bad payloads are conversion errors', () => {
  rejectTable(make(), NOW, [
    { name: 'invalid JSON', input: '[te/device/main///m/env] {"t":', error: /^ConversionError: Invalid JSON/ },
    { name: 'a JSON array', input: '[te/device/main///m/env] [1,2]', error: /invalid type: sequence, expected a JSON object/ },
    { name: 'a JSON number that is not a bridge notification', input: '[te/device/main///m/env] 42', error: /invalid type: number 42, expected a JSON object/ },
    { name: 'a time of the wrong type', input: '[te/device/main///m/env] {"time":true}', error: /Failed to format message timestamp as unix: expected a unix timestamp or an RFC 3339 string, found boolean/ },
    { name: 'an invalid RFC 3339 time', input: '[te/device/main///m/env] {"time":"yesterday"}', error: /Failed to format message timestamp as unix: Invalid ISO8601 timestamp/ },
  ]);
  rejectTable(make({ timestampFormat: 'rfc-3339' }), NOW, [
    { name: 'an out-of-range unix time', input: '[te/device/main///m/env] {"time":1e300}', error: /Failed to format message timestamp as rfc-3339: Invalid unix timestamp/ },
  ]);

  it('refuses malformed UTF-8', () => {
    assert.throws(() => make()().convert(message('te/device/main///m/env', new Uint8Array([0x7b, 0xc3, 0x28, 0x7d])), NOW), /Invalid UTF-8/);
  });

  it('subscribes to az.topics', () => {
    assert.deepEqual(make()().filters, OPTIONS.topics);
  });
});
