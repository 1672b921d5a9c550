import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { errorMessage } from '../../../src/core/errors';
import { formatLine, message } from '../../../src/core/message';
import { c8yFlowTomls } from '../../../src/flows/c8y-flows';
import { FlowsConverter, installBuiltinFlow } from '../../../src/flows/flows-converter';
import { C8yConverter, type C8yConverterOptions } from '../../../src/mapper/c8y/converter';
import { loadNative } from '../../../src/native/binding';
import { MeasurementConverter } from '../../../src/native/measurement-converter';

interface GoldenCase {
  readonly name: string;
  readonly payload?: string;
  readonly payloadHex?: string;
  readonly context: { topicType: string; nowMs: number; unitsBySeries?: Record<string, string>; externalSource?: { externalId: string } };
  readonly output?: string;
  readonly error?: string;
}
const GOLDEN = (JSON.parse(readFileSync(join(__dirname, '../../../../test/fixtures/measurement-c8y/cases.json'), 'utf8')) as { cases: GoldenCase[] }).cases;

const NATIVE = loadNative();
const TOPICS = ['te/+/+/+/+/m/+', 'te/+/+/+/+/e/+', 'te/+/+/+/+/a/+', 'te/+/+/+/+/status/health'];
const OPTIONS: C8yConverterOptions = {
  deviceId: 'main-device',
  prefix: 'c8y',
  topicRoot: 'te',
  topics: TOPICS,
  maxPayloadSize: 16184,
  earlyMessageLimit: 100,
  createWithDeviceMarker: false,
  serviceType: 'systemd',
  useOperationId: true,
  enabled: () => true,
  fileTransferBase: 'http://127.0.0.1:8000/te/v1/files',
  c8yProxyBase: 'http://127.0.0.1:8001/c8y',
  c8yHost: undefined,
};

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The mapper as tedge-mapper c8y builds it, with or without the generated flows (and an edit to them). */
function mapper(withFlows: boolean, opts: Partial<C8yConverterOptions> = {}, edit?: (dir: string) => void): C8yConverter {
  const o = { ...OPTIONS, ...opts };
  const measurementConverter = new MeasurementConverter(NATIVE.binding);
  if (!withFlows) return new C8yConverter({ ...o, measurementConverter });
  const dir = mkdtempSync(join(tmpdir(), 'c8y-flows-'));
  dirs.push(dir);
  const tomls = c8yFlowTomls({ topics: o.topics, topicRoot: o.topicRoot, prefix: o.prefix, maxPayloadSize: o.maxPayloadSize, serviceType: o.serviceType });
  for (const [name, toml] of Object.entries(tomls)) installBuiltinFlow(dir, name, toml);
  edit?.(dir);
  return new C8yConverter({ ...o, measurementConverter, telemetryFlows: new FlowsConverter(dir, 'te/errors', { measurements: measurementConverter }) });
}

/** Each input's `[topic] payload` outputs, or `error: <message>` when the converter refuses it. */
function run(converter: C8yConverter, inputs: readonly (readonly [string, string | Uint8Array, number?])[]): string[] {
  return inputs.flatMap(([topic, payload, nowMs]) => {
    try {
      return converter.convert(message(topic, payload), new Date(nowMs ?? Date.UTC(2026, 0, 2, 3, 4, 5, 678))).map(formatLine);
    } catch (err) {
      return [`error: ${errorMessage(err)}`];
    }
  });
}

/** A golden case as the mapper receives it: the child's registration, the units' meta, the measurement. */
function goldenInputs(c: GoldenCase): [string, string | Uint8Array, number][] {
  const child = c.context.externalSource?.externalId;
  const entity = child === undefined ? 'device/main//' : 'device/child1//';
  const topic = `te/${entity}/m/${c.context.topicType}`;
  const units = Object.fromEntries(Object.entries(c.context.unitsBySeries ?? {}).map(([k, unit]) => [k, { unit }]));
  return [
    ...(child === undefined ? [] : [[`te/${entity}`, JSON.stringify({ '@type': 'child-device', '@id': child }), 0] as [string, string, number]]),
    ...(Object.keys(units).length === 0 ? [] : [[`${topic}/meta`, JSON.stringify(units), 0] as [string, string, number]]),
    [topic, c.payload ?? Buffer.from(c.payloadHex ?? '', 'hex'), c.context.nowMs],
  ];
}

const SEQUENCE: [string, string][] = [
  ['te/device/main///m/early', '{"t":1}'],
  ['te/device/early//m/', '{"t":1}'],
  ['te/device/early//', '{"@type":"child-device","@id":"early-xid"}'],
  ['te/device/main/service/app', '{"@type":"service","name":"App","type":"daemon"}'],
  ['te/device/main/service/plain', '{"@type":"service"}'],
  ['te/device/nested//', '{"@type":"child-device","@parent":"device/early//"}'],
  ['te/device/nested/service/s', '{"@type":"service"}'],
  ['te/device/main///e/login', '{"text":"hi \\"there\\""}'],
  ['te/device/main///e/', '{}'],
  ['te/device/main///e/rich', '{"text":"x","k":{"a":[1,2]},"time":"2025-08-07T12:47:26.152Z"}'],
  ['te/device/early///e/door', '{"text":"open"}'],
  ['te/device/main///e/big', `{"text":"big","blob":"${'x'.repeat(17000)}"}`],
  ['te/device/main///e/bad', 'not json'],
  ['te/device/main///a/hot', '{"severity":"major","text":"hot","extra":1}'],
  ['te/device/main///a/plain', '{"text":"t"}'],
  ['te/device/early///a/temp', '{"severity":"critical","text":"x"}'],
  ['te/device/main///a/hot', ''],
  ['te/device/main///a/bad', '{"severity":"extreme"}'],
  ['te/device/main/service/app/status/health', '{"status":"up"}'],
  ['te/device/main/service/plain/status/health', '{"status":"down"}'],
  ['te/device/nested/service/s/status/health', 'garbage'],
  ['te/device/early///status/health', '{"status":"up"}'],
  ['te/device/main/service/mosquitto-c8y-bridge/status/health', '1'],
  ['te/device/main///m/env/meta', '{"t":{"unit":"°C"}}'],
  ['te/device/main///m/env', '{"t":21.5,"u":1}'],
  ['te/device/main///m/env/meta', '5'],
  ['te/device/main///m/env/meta', ''],
  ['te/device/main///m/env', '{"t":21.5}'],
  ['te/device/nested///m/x', `{"t":1,"time":1754570846.152,"s":"${'y'.repeat(200)}"}`],
  ['te/device/early//', ''],
  ['te/device/early///m/', '{"t":2}'],
  ['te/device/main///m/', '{"t":true}'],
];

describe("the c8y mapper's telemetry flows, generated from its settings, give its converter's bytes", () => {
  it('over the golden measurement fixtures (outputs and errors), through the native converter when it loads', () => {
    for (const c of GOLDEN) {
      const inputs = goldenInputs(c);
      const viaFlows = run(mapper(true), inputs);
      assert.deepEqual(viaFlows, run(mapper(false), inputs), c.name);
      const last = viaFlows[viaFlows.length - 1] as string;
      if (c.output !== undefined) assert.equal(last, `[c8y/measurement/measurements/create] ${c.output}`, c.name);
      else assert.equal(last, `error: ${c.error ?? ''}`, c.name);
    }
  });

  it('over registrations, early messages, events, alarms, health and units (outputs and errors)', () => {
    const viaFlows = run(mapper(true), SEQUENCE);
    assert.deepEqual(viaFlows, run(mapper(false), SEQUENCE));
    assert.ok(viaFlows.some((l) => l.startsWith('[c8y/s/us] 102,main-device:device:main:service:app,daemon,App,up')), viaFlows.join('\n'));
  });

  it('with a small payload limit (oversized measurements and events)', () => {
    assert.deepEqual(run(mapper(true, { maxPayloadSize: 180 }), SEQUENCE), run(mapper(false, { maxPayloadSize: 180 }), SEQUENCE));
  });

  it('converts through the files: an edited flow changes the output, the others keep mapping', () => {
    const edited = mapper(true, {}, (dir) => {
      const path = join(dir, 'measurements.toml');
      writeFileSync(path, readFileSync(path, 'utf8').replace('steps = [', 'steps = [\n  { builtin = "ignore-topics", config = { topics = ["te/+/+/+/+/m/noise"] } },'));
    });
    assert.deepEqual(run(edited, [['te/device/main///m/noise', '{"t":1}'], ['te/device/main///m/env', '{"t":1}'], ['te/device/main///e/x', '{"text":"y"}']]), [
      '[c8y/measurement/measurements/create] {"type":"env","time":"2026-01-02T03:04:05.678Z","t":{"t":{"value":1}}}',
      '[c8y/s/us] 400,x,"y",2026-01-02T03:04:05.678Z',
    ]);
  });

  it('reloads edited flows: context.mapper carries over, a broken file keeps its previous version', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'c8y-flows-'));
    dirs.push(dir);
    for (const [name, toml] of Object.entries(c8yFlowTomls({ topics: TOPICS, topicRoot: 'te', prefix: 'c8y', maxPayloadSize: 16184, serviceType: 'service' }))) installBuiltinFlow(dir, name, toml);
    const flows = new FlowsConverter(dir, 'te/errors');
    const converter = new C8yConverter({ ...OPTIONS, telemetryFlows: flows });
    const child: [string, string] = ['te/device/c///m/', '{"t":1}'];
    run(converter, [['te/device/c//', '{"@type":"child-device"}']]);
    const path = join(dir, 'measurements.toml');
    writeFileSync(path, readFileSync(path, 'utf8').replace('output.mqtt.topic = "c8y/measurement/measurements/create"', 'output.mqtt.topic = "c8y/edited"'));
    assert.deepEqual(await flows.reload(), []);
    const edited = '[c8y/edited] {"externalSource":{"externalId":"main-device:device:c","type":"c8y_Serial"},"type":"ThinEdgeMeasurement","time":"2026-01-02T03:04:05.678Z","t":{"t":{"value":1}}}';
    assert.deepEqual(run(converter, [child]), [edited], 'the child registered before the reload is still known');
    writeFileSync(path, 'steps = [');
    const errors = await flows.reload();
    assert.equal(errors.length, 1);
    assert.match(errors[0] as string, /measurements\.toml: /);
    assert.deepEqual(run(converter, [child]), [edited], 'the previous version keeps running');
  });

  it('reads as thin-edge names and lays out its flows', () => {
    const tomls = c8yFlowTomls({ topics: [...TOPICS, 'te/+/+/+/+/twin/+'], topicRoot: 'te', prefix: 'c8y', maxPayloadSize: 16184, serviceType: 'service' });
    assert.deepEqual(Object.keys(tomls), ['measurements', 'events', 'alarms', 'health']);
    assert.equal(
      tomls.measurements,
      [
        '# Generated by tedge-mapper c8y from its tedge config settings; edit to change the mapping.',
        'input.mqtt.topics = ["te/+/+/+/+/m/+"]',
        '',
        'config = { topic_root = "te", c8y_prefix = "c8y" }',
        '',
        'steps = [',
        '  { builtin = "cache-early-messages" },',
        '  { builtin = "into-c8y-measurements", config = { max_payload_size = 16184 } },',
        ']',
        '',
        'output.mqtt.topic = "c8y/measurement/measurements/create"',
        'errors.mqtt.topic = "te/errors"',
        '',
      ].join('\n'),
    );
    assert.match(tomls.health, /input\.mqtt\.topics = \["te\/\+\/\+\/\+\/\+\/status\/health"\]/);
  });
});
