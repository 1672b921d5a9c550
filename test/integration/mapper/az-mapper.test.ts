import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BusProbe } from '../../helpers/bus-probe';
import { Daemon, runCli } from '../../helpers/daemon';
import { MapperUnderTest } from '../../helpers/mapper-under-test';

const HEALTH = 'te/device/main/service/tedge-mapper-az/status/health';
const EVENTS = 'az/messages/events/';

describe('tedge-mapper az on a real mosquitto', () => {
  let probe: BusProbe;
  let mapper: Daemon;
  let env: Record<string, string>;
  let underTest: MapperUnderTest;

  before(async () => {
    underTest = await MapperUnderTest.start('az', { filters: ['az/#', 'te/errors'], env: { TEDGE_AZ_MAPPER_TIMESTAMP_FORMAT: 'rfc-3339' } });
    ({ probe, mapper, env } = underTest);
  });

  after(() => underTest.stop());

  it('maps through the mea.toml it installs in <config-dir>/mappers/az/flows/ (thin-edge 2.x)', () => {
    const flow = readFileSync(join(underTest.configDir, 'mappers', 'az', 'flows', 'mea.toml'), 'utf8');
    assert.equal(readFileSync(join(underTest.configDir, 'mappers', 'az', 'flows', 'mea.toml.template'), 'utf8'), flow);
    assert.match(flow, /builtin = "skip-mosquitto-health-status"/);
  });

  it('forwards a measurement to az/messages/events/ with its time reformatted', async () => {
    await probe.publish('te/device/main///m/environment', '{"temperature":21.5,"time":1619802194}');
    const out = await probe.waitForText(EVENTS, (t) => t.includes('21.5'));
    assert.equal(out, '{"temperature":21.5,"time":"2021-04-30T17:03:14Z"}');
  });

  it('skips the bare 1 of a mosquitto bridge, forwards the rest', async () => {
    await probe.publish('te/device/main/service/mosquitto-az-bridge/status/health', '1');
    await probe.publish('te/device/child1///e/login', '{"text":"hello","time":"2021-01-01T05:30:45+00:00"}');
    await probe.waitForText(EVENTS, (t) => t.includes('hello'));
    assert.ok(!probe.texts(EVENTS).includes('1'));
  });

  it('reports a payload that is not a JSON object on te/errors and keeps running', async () => {
    await probe.publish('te/device/main///m/bad', 'not json');
    const error = await probe.waitForText('te/errors', (t) => t.includes('te/device/main///m/bad'));
    assert.match(error, /Invalid JSON/);
    await probe.publish('te/device/main///m/after', '{"after":7}');
    await probe.waitForText(EVENTS, (t) => t.includes('"after"'));
    assert.equal(mapper.exited, false);
  });

  it('refuses an unknown time format at start, in one line', async () => {
    const result = await runCli('tedge-mapper', ['az'], { ...env, TEDGE_AZ_MAPPER_TIMESTAMP_FORMAT: 'iso8601' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: .*invalid value 'iso8601' for 'az\.mapper\.timestamp_format': expected one of: unix, rfc-3339\n$/);
  });
});
