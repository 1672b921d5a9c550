import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsConverter, type AwsConverterOptions } from '../../../../src/mapper/aws/converter';
import { awsTopic } from '../../../../src/mapper/aws/topic';
import { converterTable, rejectTable } from '../../../helpers/converter-table';

const NOW = new Date('2021-04-07T19:00:00Z');
const UNIX = '1617822000';

const OPTIONS: AwsConverterOptions = {
  topics: ['te/+/+/+/+/m/+', 'te/+/+/+/+/e/+', 'te/+/+/+/+/a/+', 'te/+/+/+/+/status/health'],
  prefix: 'aws',
  timestampFormat: 'unix',
  maxPayloadSize: 131072,
  maxPayloadSizeKey: 'aws.mapper.mqtt.max_payload_size',
};
const make = (opts: Partial<AwsConverterOptions> = {}) => () => new AwsConverter({ ...OPTIONS, ...opts });

describe('aws mapper: set-aws-topic folds the entity into one level', () => {
  converterTable(make(), NOW, [
    { name: 'main-device measurement without a type', input: '[te/device/main///m/] {"t":1}', output: [`[aws/td/device:main/m/] {"t":1,"time":${UNIX}}`] },
    { name: 'main-device measurement with a type', input: '[te/device/main///m/env] {"t":1}', output: [`[aws/td/device:main/m/env] {"t":1,"time":${UNIX}}`] },
    { name: 'child-device measurement', input: '[te/device/child///m/env] {"t":1}', output: [`[aws/td/device:child/m/env] {"t":1,"time":${UNIX}}`] },
    {
      name: 'service of the main device',
      input: '[te/device/main/service/svc/m/env] {"t":1}',
      output: [`[aws/td/device:main:service:svc/m/env] {"t":1,"time":${UNIX}}`],
    },
    {
      name: 'event of a service of a child device',
      input: '[te/device/child/service/svc/e/evt] {"text":"I raised it","time":"2021-04-23T19:00:00+05:00"}',
      output: ['[aws/td/device:child:service:svc/e/evt] {"text":"I raised it","time":1619186400}'],
    },
    {
      name: 'main-device alarm',
      input: '[te/device/main///a/alarm_type] {"text":"I raised it","severity":"critical","time":1}',
      output: ['[aws/td/device:main/a/alarm_type] {"text":"I raised it","severity":"critical","time":1}'],
    },
    {
      name: 'child-service alarm',
      input: '[te/device/child/service/cservice/a/alarm_type] {"severity":"minor"}',
      output: [`[aws/td/device:child:service:cservice/a/alarm_type] {"severity":"minor","time":${UNIX}}`],
    },
    { name: 'a cleared alarm (empty payload) keeps its meaning', input: '[te/device/child///a/hot] ', output: ['[aws/td/device:child/a/hot] '] },
    {
      name: 'service health',
      input: '[te/device/main/service/test-service/status/health] {"pid":1234,"status":"up"}',
      output: [`[aws/td/device:main:service:test-service/status/health] {"pid":1234,"status":"up","time":${UNIX}}`],
    },
    {
      name: 'a custom entity scheme keeps its non-empty levels',
      input: '[te/factory/line1/robot/arm/m/] {"t":1}',
      output: [`[aws/td/factory:line1:robot:arm/m/] {"t":1,"time":${UNIX}}`],
    },
  ]);
  converterTable(make({ prefix: 'custom-prefix', timestampFormat: undefined }), NOW, [
    { name: 'the prefix follows aws.bridge.topic_prefix', input: '[te/device/main///m/] {"t":1}', output: ['[custom-prefix/td/device:main/m/] {"t":1}'] },
  ]);
  converterTable(make({ timestampFormat: 'rfc-3339' }), NOW, [
    {
      name: 'rfc-3339: a unix time is reformatted',
      input: '[te/device/main///m/] {"time":1702029646,"temperature":23.0}',
      output: ['[aws/td/device:main/m/] {"time":"2023-12-08T10:00:46Z","temperature":23.0}'],
    },
  ]);

  it('refuses topics AWS has no place for, naming them', () => {
    assert.throws(() => awsTopic('te/device/main///twin/x', 'aws'), /No AWS topic for 'te\/device\/main\/\/\/twin\/x'/);
    assert.throws(() => awsTopic('te/device/main///m/env/meta', 'aws'), /No AWS topic/);
    assert.throws(() => awsTopic('te/device/main///status/metrics', 'aws'), /No AWS topic/);
  });
});

describe('aws mapper: the shared steps', () => {
  converterTable(make(), NOW, [
    { name: 'skips a mosquitto bridge notification 0', input: '[te/device/main/service/mosquitto-aws-bridge/status/health] 0', output: [] },
    { name: 'skips a mosquitto bridge notification 1', input: '[te/device/main/service/mosquitto-aws-bridge/status/health] 1', output: [] },
  ]);
  const body = (n: number) => `{"time":1,"s":"${'x'.repeat(n - 17)}"}`;
  converterTable(make(), NOW, [
    { name: 'a payload of exactly 131072 bytes is sent', input: `[te/device/main///m/] ${body(131072)}`, output: [`[aws/td/device:main/m/] ${body(131072)}`] },
  ]);
  rejectTable(make(), NOW, [
    { name: 'a payload over 131072 bytes is refused', input: `[te/device/main///m/] ${body(131073)}`, error: /131073 bytes, above the limit of 131072 bytes \(aws\.mapper\.mqtt\.max_payload_size\)/ },
    { name: 'a twin topic (widened aws.topics) is reported', input: '[te/device/main///twin/x] {"a":1}', error: /No AWS topic/ },
    { name: 'not a JSON object', input: '[te/device/main///m/] This is not Thin Edge JSON', error: /Invalid JSON/ },
  ]);
});
