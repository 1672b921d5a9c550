import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Converter } from '../../../src/core/converter';
import { errorMessage } from '../../../src/core/errors';
import { type Message, formatLine, message } from '../../../src/core/message';
import { meaFlowToml } from '../../../src/flows/builtin-flows';
import { FlowsConverter, installBuiltinFlow } from '../../../src/flows/flows-converter';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AwsConverter } from '../../../src/mapper/aws/converter';
import { AzConverter } from '../../../src/mapper/az/converter';
import type { TimeFormat } from '../../../src/mapper/steps/add-timestamp';
import { EngineUnderTest } from './engine-support';

const TOPICS = ['te/+/+/+/+/m/+', 'te/+/+/+/+/e/+', 'te/+/+/+/+/a/+', 'te/+/+/+/+/status/health'];
// A widened <cloud>.topics: a topic AWS has no form for (its payload bad too: which is reported first).
const WIDENED = [...TOPICS, 'te/+/+/+/+/twin/+'];
const INPUTS: [string, string | Uint8Array][] = [
  ['te/device/main///m/env', '{"temperature":21.50,"big":12345678901234567890}'],
  ['te/device/main///m/env', '{"time":"2025-08-07T12:47:26.152Z","t":1}'],
  ['te/device/child///m/', '{"time":1754570846.152,"t":1}'],
  ['te/device/main/service/mosquitto-az-bridge/status/health', '1'],
  ['te/device/main/service/app/status/health', '{"status":"up"}'],
  ['te/device/main///a/hot', ''],
  ['te/device/main///e/login', '{"text":"hi"}'],
  ['te/device/main///m/env', 'not json'],
  ['te/device/main///m/env', new Uint8Array([0x7b, 0xff, 0x7d])],
  ['te/device/main///m/env', `{"blob":"${'x'.repeat(300)}"}`],
  ['te/device/main///m/env', '[1,2]'],
  ['te/device/main///twin/x', 'not json'],
  ['te/device/main///twin/x', '{"fine":true}'],
];

/** `[topic] payload` of each output, or `error: <message>` for an input the converter refuses. */
function viaConverter(converter: Converter, now: Date): string[] {
  return INPUTS.flatMap(([topic, payload]) => {
    try {
      return converter.convert(message(topic, payload), now).map(formatLine);
    } catch (err) {
      return [`error: ${errorMessage(err)}`];
    }
  });
}

async function viaFlow(t: EngineUnderTest, toml: string): Promise<string[]> {
  t.write({ 'mea.toml': toml });
  await t.engine.sync();
  const out: string[] = [];
  for (const [topic, payload] of INPUTS) {
    t.take();
    await t.engine.dispatch(message(topic, payload) as Message);
    out.push(...t.take().map((l) => (l.startsWith('[te/errors] ') ? `error: ${l.replace(/^.*?, on a message of topic '[^']*': /, '')}` : l)));
  }
  return out;
}

describe("the az and aws mappers' mea flow, generated from their settings, gives their converters' bytes", () => {
  let t: EngineUnderTest;
  afterEach(() => t.close());

  for (const format of ['unix', 'rfc-3339', undefined] as (TimeFormat | undefined)[]) {
    const settings = { topics: WIDENED, timestampFormat: format, maxPayloadSize: 256 };
    it(`az, ${format ?? 'timestamps off'}`, async () => {
      t = new EngineUnderTest();
      const opts = { ...settings, prefix: 'az', maxPayloadSizeKey: 'az.mapper.mqtt.max_payload_size' };
      assert.deepEqual(await viaFlow(t, meaFlowToml('az', opts)), viaConverter(new AzConverter(opts), new Date(t.now)));
    });
    it(`aws, ${format ?? 'timestamps off'}`, async () => {
      t = new EngineUnderTest();
      const opts = { ...settings, prefix: 'aws', maxPayloadSizeKey: 'aws.mapper.mqtt.max_payload_size' };
      assert.deepEqual(await viaFlow(t, meaFlowToml('aws', opts)), viaConverter(new AwsConverter(opts), new Date(t.now)));
    });
  }

  it('as the mapper runs it (FlowsConverter under MapperRuntime), the same bytes and errors as AwsConverter', () => {
    t = new EngineUnderTest();
    const opts = { topics: WIDENED, timestampFormat: 'unix' as const, maxPayloadSize: 256, prefix: 'aws', maxPayloadSizeKey: 'aws.mapper.mqtt.max_payload_size' };
    installBuiltinFlow(t.dir, 'mea', meaFlowToml('aws', opts));
    const now = new Date(t.now);
    assert.deepEqual(viaConverter(new FlowsConverter(t.dir, 'te/errors'), now), viaConverter(new AwsConverter(opts), now));
  });

  it("installs the flow and its template; keeps a user's edit; respects a disabled or removed flow", () => {
    t = new EngineUnderTest();
    const flow = join(t.dir, 'mea.toml');
    installBuiltinFlow(t.dir, 'mea', 'v1');
    assert.deepEqual([readFileSync(flow, 'utf8'), readFileSync(`${flow}.template`, 'utf8')], ['v1', 'v1']);
    installBuiltinFlow(t.dir, 'mea', 'v2');
    assert.equal(readFileSync(flow, 'utf8'), 'v2', 'an unedited flow follows the settings');
    writeFileSync(flow, 'mine');
    installBuiltinFlow(t.dir, 'mea', 'v3');
    assert.deepEqual([readFileSync(flow, 'utf8'), readFileSync(`${flow}.template`, 'utf8')], ['mine', 'v3']);
    renameSync(flow, `${flow}.disabled`);
    installBuiltinFlow(t.dir, 'mea', 'v4');
    assert.equal(existsSync(flow), false, 'disabled stays disabled');
    // A flow of that name put there before the mapper first ran (no template yet) is the user's, as in thin-edge.
    writeFileSync(join(t.dir, 'own.toml'), 'mine');
    installBuiltinFlow(t.dir, 'own', 'v1');
    assert.deepEqual([readFileSync(join(t.dir, 'own.toml'), 'utf8'), readFileSync(join(t.dir, 'own.toml.template'), 'utf8')], ['mine', 'v1']);
  });

  it('runs a script step of a built-in mapper later, in its worker (test/unit/flows/mapper-script-flows.test.ts runs it)', () => {
    t = new EngineUnderTest().write({ 'x.toml': 'input.mqtt.topics = ["a"]\nsteps = [{ script = "x.js" }]\n', 'x.js': 'export function onMessage(m) { return m; }' });
    const converter = new FlowsConverter(t.dir, 'te/errors');
    assert.deepEqual(converter.filters, ['a']);
    assert.deepEqual(converter.convert(message('a', '1'), new Date()), []);
    assert.ok(converter.takeLater() instanceof Promise, 'its outputs, once the flow is started');
  });

  it('reads as thin-edge documents it', () => {
    assert.equal(
      meaFlowToml('az', { topics: TOPICS, prefix: 'az', timestampFormat: 'unix', maxPayloadSize: 262144, maxPayloadSizeKey: 'az.mapper.mqtt.max_payload_size' }),
      [
        '# Generated by tedge-mapper az from its tedge config settings; edit to change the mapping.',
        'input.mqtt.topics = ["te/+/+/+/+/m/+", "te/+/+/+/+/e/+", "te/+/+/+/+/a/+", "te/+/+/+/+/status/health"]',
        '',
        'steps = [',
        '  { builtin = "skip-mosquitto-health-status" },',
        '  { builtin = "require-json-object" },',
        '  { builtin = "add-timestamp", config = { property = "time", format = "unix", reformat = true } },',
        '  { builtin = "limit-payload-size", config = { max_size = 262144, setting = "az.mapper.mqtt.max_payload_size" } },',
        ']',
        '',
        'output.mqtt.topic = "az/messages/events/"',
        'errors.mqtt.topic = "te/errors"',
        '',
      ].join('\n'),
    );
  });
});
