import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLine, message, parseLine } from '../../../../src/core/message';
import { CollectdConverter } from '../../../../src/mapper/collectd/converter';
import { rejectTable } from '../../../helpers/converter-table';

const NOW = new Date('2026-01-02T03:04:05Z');
const WINDOW = 200;
const OUT = 'te/device/main///m/';
const make = () => new CollectdConverter({ outputTopic: OUT, windowMs: WINDOW });

/** Inputs converted at NOW, then what the converter releases once the window has passed. */
function batched(inputs: readonly string[]): string[] {
  const converter = make();
  for (const line of inputs) assert.deepEqual(converter.convert(parseLine(line), NOW), []);
  return converter.flush(new Date(NOW.getTime() + WINDOW), false).map(formatLine);
}

describe('collectd mapper: samples to Thin Edge JSON', () => {
  const rows: Array<{ name: string; inputs: string[]; output: string[] }> = [
    {
      name: 'a single value: group = plugin, key = metric, time from collectd',
      inputs: ['[collectd/raspberrypi/cpu/percent-active] 1617822000.123:2.07'],
      output: [`[${OUT}] {"time":"2021-04-07T19:00:00.123Z","cpu":{"percent-active":2.07}}`],
    },
    {
      name: 'several values become <metric>_val1, _val2, …',
      inputs: ['[collectd/host/temperature/value] 123456789:32.5:45.2:-1'],
      output: [`[${OUT}] {"time":"1973-11-29T21:33:09Z","temperature":{"value_val1":32.5,"value_val2":45.2,"value_val3":-1}}`],
    },
    {
      name: 'a trailing NUL (collectd writes C strings) is tolerated',
      inputs: ['[collectd/host/temperature/value] 123456789.125:32.5\u0000'],
      output: [`[${OUT}] {"time":"1973-11-29T21:33:09.125Z","temperature":{"value":32.5}}`],
    },
    {
      name: 'messages of one read cycle are one measurement, grouped by plugin, in arrival order',
      inputs: [
        '[collectd/host/memory/percent-used] 1617822000:61.5',
        '[collectd/host/cpu/percent-active] 1617822000.05:2.07',
        '[collectd/host/memory/percent-free] 1617822000.1:38.5',
        '[collectd/other-host/df-root/percent_bytes-used] 1617822000.2:71',
      ],
      output: [`[${OUT}] {"time":"2021-04-07T19:00:00Z","memory":{"percent-used":61.5,"percent-free":38.5},"cpu":{"percent-active":2.07},"df-root":{"percent_bytes-used":71}}`],
    },
    {
      name: 'read cycles further apart than the window stay apart, even when they arrive together',
      inputs: ['[collectd/host/cpu/percent-active] 1617822000:1', '[collectd/host/cpu/percent-active] 1617822010:2', '[collectd/host/memory/used] 1617822000:3'],
      output: [`[${OUT}] {"time":"2021-04-07T19:00:00Z","cpu":{"percent-active":1},"memory":{"used":3}}`, `[${OUT}] {"time":"2021-04-07T19:00:10Z","cpu":{"percent-active":2}}`],
    },
    {
      name: 'a repeated key opens a new measurement rather than overwriting a value',
      inputs: ['[collectd/host/cpu/idle] 1617822000:1', '[collectd/host/cpu/idle] 1617822000:2'],
      output: [`[${OUT}] {"time":"2021-04-07T19:00:00Z","cpu":{"idle":1}}`, `[${OUT}] {"time":"2021-04-07T19:00:00Z","cpu":{"idle":2}}`],
    },
    {
      name: 'numbers as collectd writes them: exponents, signs, very large values',
      inputs: ['[collectd/host/n/a] 1617822000:1e3', '[collectd/host/n/b] 1617822000:+.5', '[collectd/host/n/c] 1617822000:340282366920938463463374607431768211455'],
      output: [`[${OUT}] {"time":"2021-04-07T19:00:00Z","n":{"a":1000,"b":0.5,"c":3.402823669209385e+38}}`],
    },
    {
      name: 'names are data: quotes and integer-like names keep their place',
      inputs: ['[collectd/host/a"b/2] 1617822000:1', '[collectd/host/a"b/x] 1617822000:2'],
      output: [`[${OUT}] {"time":"2021-04-07T19:00:00Z","a\\"b":{"2":1,"x":2}}`],
    },
  ];
  for (const row of rows) it(row.name, () => assert.deepEqual(batched(row.inputs), row.output));

  it('subscribes to collectd/#', () => {
    assert.deepEqual(make().filters, ['collectd/#']);
  });
});

describe('collectd mapper: malformed input is a conversion error, never a crash', () => {
  rejectTable(make, NOW, [
    { name: 'a topic with 3 levels', input: '[collectd/less/level] 123456789:32.5', error: /invalid collectd topic: collectd\/less\/level\. .*collectd\/<hostname>\/<metric-plugin-name>\/<metric-key>/ },
    { name: 'a topic with 5 levels', input: '[collectd/more/levels/than/needed] 123456789:32.5', error: /invalid collectd topic/ },
    { name: 'an empty plugin level', input: '[collectd/host//value] 123456789:32.5', error: /invalid collectd topic/ },
    { name: 'no value', input: '[collectd/host/group/key] 123456789', error: /Invalid payload: "123456789"\. Expected payload format: <timestamp>:<value>/ },
    { name: 'an empty payload', input: '[collectd/host/group/key] ', error: /Invalid payload: ""/ },
    { name: 'a timestamp that is not a number', input: '[collectd/host/group/key] abc:98.6', error: /Invalid measurement timestamp: "abc"\. Epoch time value expected/ },
    { name: 'a timestamp out of range', input: '[collectd/host/group/key] 1e300:98.6', error: /Invalid measurement timestamp/ },
    { name: 'a value that is not a number', input: '[collectd/host/group/key] 123456789:abc', error: /Invalid measurement value: "abc"\. Must be a number/ },
    { name: 'one bad value among several', input: '[collectd/host/group/key] 123456789:96.6:abc', error: /Invalid measurement value: "abc"/ },
    { name: 'nan (no JSON number for it)', input: '[collectd/host/group/key] 123456789:nan', error: /Invalid measurement value: "nan"/ },
    { name: 'a hex value', input: '[collectd/host/group/key] 123456789:0x10', error: /Invalid measurement value: "0x10"/ },
    { name: 'an empty value', input: '[collectd/host/group/key] 123456789:', error: /Invalid measurement value: ""/ },
    { name: 'a value out of range', input: '[collectd/host/group/key] 123456789:1e999', error: /Invalid measurement value: "1e999"/ },
    { name: 'a plugin named time', input: '[collectd/host/time/key] 123456789:1', error: /'time' would clash/ },
  ]);

  it('refuses malformed UTF-8', () => {
    assert.throws(() => make().convert(message('collectd/h/g/k', new Uint8Array([0x31, 0x3a, 0xc3, 0x28])), NOW), /Invalid UTF-8/);
  });

  it('holds nothing of a message with one bad value', () => {
    const converter = make();
    assert.throws(() => converter.convert(parseLine('[collectd/host/group/key] 123456789:1:x'), NOW));
    assert.equal(converter.nextFlushAt(), undefined);
    assert.deepEqual(converter.flush(NOW, true), []);
  });
});
