import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLine, parseLine } from '../../../../src/core/message';
import { loadNative } from '../../../../src/native/binding';
import { MeasurementConverter } from '../../../../src/native/measurement-converter';
import { C8yConverter, type C8yConverterOptions } from '../../../../src/mapper/c8y/converter';

const NATIVE = loadNative();
const NOW = new Date('2026-01-02T03:04:05.678Z');

const OPTIONS: C8yConverterOptions = {
  deviceId: 'test-device',
  prefix: 'c8y',
  topicRoot: 'te',
  topics: [],
  maxPayloadSize: 16184,
  earlyMessageLimit: 100,
  createWithDeviceMarker: false,
  serviceType: 'service',
  useOperationId: true,
  enabled: () => true,
  fileTransferBase: 'http://127.0.0.1:8000/te/v1/files',
  c8yProxyBase: 'http://127.0.0.1:8001/c8y',
  c8yHost: undefined,
};

/** Sequences as the mapper sees them: units and registrations first, then measurements. */
const SEQUENCES: readonly (readonly string[])[] = [
  ['[te/device/main///m/env] {"temperature":23.4,"humidity":{"relative":48}}'],
  ['[te/device/main///m/battery/meta] {"voltage":{"unit":"V"},"Climate.Temp":{"unit":"°C"}}', '[te/device/main///m/battery] {"voltage":3.3,"Climate":{"Temp":20},"time":1619802194}'],
  ['[te/device/child01//] {"@type":"child-device"}', '[te/device/child01///m/] {"t":1e21,"u":-0.000001,"properties":{"sensor":"DS18B20","n":[1,2]}}'],
  ['[te/device/main///m/] {"type":"custom","k\\"ey":5,"time":"2021-04-30T17:03:14.123456789+02:00"}'],
  ['[te/device/main///m/] {"a":1,"a":2}'],
];

const REJECTED = ['{"t":true}', '{}', '{"t":1e999}', '{"time":"2013-06-22 3am","t":1}', '{"externalSource":1}', '{"t":1'];

function run(converter: C8yConverter, lines: readonly string[]): string[] {
  return lines.flatMap((l) => converter.convert(parseLine(l), NOW).map(formatLine));
}

function errorOf(converter: C8yConverter, payload: string): string {
  try {
    converter.convert(parseLine(`[te/device/main///m/] ${payload}`), NOW);
    return 'accepted';
  } catch (e) {
    return (e as Error).message;
  }
}

describe('c8y mapper: the native measurement converter changes nothing a user sees', () => {
  const ts = (): C8yConverter => new C8yConverter(OPTIONS);
  const native = (): C8yConverter => new C8yConverter({ ...OPTIONS, measurementConverter: new MeasurementConverter(NATIVE.binding) });

  for (const [i, lines] of SEQUENCES.entries()) {
    it(`gives the same messages as the TypeScript path (sequence ${i + 1})`, (t) => {
      if (!NATIVE.binding) return t.skip(`addon not built (${NATIVE.reason ?? ''})`);
      assert.deepEqual(run(native(), lines), run(ts(), lines));
    });
  }
  for (const payload of REJECTED) {
    it(`rejects ${payload} with the same cause`, (t) => {
      if (!NATIVE.binding) return t.skip(`addon not built (${NATIVE.reason ?? ''})`);
      assert.equal(errorOf(native(), payload), errorOf(ts(), payload));
      assert.notEqual(errorOf(ts(), payload), 'accepted');
    });
  }
});
