import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BusProbe } from '../../helpers/bus-probe';
import type { Daemon } from '../../helpers/daemon';
import { MapperUnderTest } from '../../helpers/mapper-under-test';

const HEALTH = 'te/device/main/service/tedge-mapper-aws/status/health';

describe('tedge-mapper aws on a real mosquitto', () => {
  let probe: BusProbe;
  let mapper: Daemon;
  let underTest: MapperUnderTest;

  before(async () => {
    underTest = await MapperUnderTest.start('aws', { filters: ['aws/#', 'te/errors'] });
    ({ probe, mapper } = underTest);
  });

  after(() => underTest.stop());

  it('maps through the mea.toml it installs in <config-dir>/mappers/aws/flows/ (thin-edge 2.x)', () => {
    const flow = readFileSync(join(underTest.configDir, 'mappers', 'aws', 'flows', 'mea.toml'), 'utf8');
    assert.equal(readFileSync(join(underTest.configDir, 'mappers', 'aws', 'flows', 'mea.toml.template'), 'utf8'), flow);
    assert.match(flow, /builtin = "skip-mosquitto-health-status"/);
  });

  it('forwards its own health to aws/td/device:main:service:tedge-mapper-aws/status/health', async () => {
    const health = await probe.waitForText('aws/td/device:main:service:tedge-mapper-aws/status/health', (t) => t.includes('"up"'));
    assert.equal((JSON.parse(health) as { pid: number }).pid, mapper.process.pid);
  });

  it('forwards a child measurement to aws/td/device:child/m/<type> with a unix time', async () => {
    await probe.publish('te/device/child///m/env', '{"temperature":21.5,"time":"2021-04-30T17:03:14Z"}');
    const out = await probe.waitForText('aws/td/device:child/m/env');
    assert.equal(out, '{"temperature":21.5,"time":1619802194}');
  });

  it('forwards a service alarm and its clearing', async () => {
    await probe.publish('te/device/main/service/app/a/hot', '{"severity":"major","time":1}', { retain: true });
    await probe.waitForText('aws/td/device:main:service:app/a/hot', (t) => t.includes('major'));
    await probe.publish('te/device/main/service/app/a/hot', '', { retain: true });
    await probe.waitForText('aws/td/device:main:service:app/a/hot', (t) => t === '');
  });

  it('reports a bad payload on te/errors and keeps running', async () => {
    await probe.publish('te/device/main///e/bad', '[1,2]');
    const error = await probe.waitForText('te/errors', (t) => t.includes('te/device/main///e/bad'));
    assert.match(error, /expected a JSON object/);
    await probe.publish('te/device/main///e/after', '{"text":"still here"}');
    await probe.waitForText('aws/td/device:main/e/after', (t) => t.includes('still here'));
    assert.equal(mapper.exited, false);
  });
});
