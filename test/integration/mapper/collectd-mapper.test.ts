import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BusProbe } from '../../helpers/bus-probe';
import type { Daemon } from '../../helpers/daemon';
import { MapperUnderTest } from '../../helpers/mapper-under-test';

const HEALTH = 'te/device/main/service/tedge-mapper-collectd/status/health';
const OUT = 'te/device/main///m/';

describe('tedge-mapper collectd on a real mosquitto', () => {
  let probe: BusProbe;
  let mapper: Daemon;
  let underTest: MapperUnderTest;

  before(async () => {
    underTest = await MapperUnderTest.start('collectd', { filters: [OUT, 'te/errors'] });
    ({ probe, mapper } = underTest);
  });

  after(() => underTest.stop());

  it('batches one read cycle into one Thin Edge JSON measurement', async () => {
    await probe.publish('collectd/host/cpu/percent-active', '1617822000.5:2.07\u0000', { qos: 0 });
    await probe.publish('collectd/host/memory/percent-used', '1617822000.5:61.5', { qos: 0 });
    await probe.publish('collectd/host/load/load', '1617822000.5:0.1:0.2:0.3', { qos: 0 });
    const out = await probe.waitForText(OUT);
    assert.equal(out, '{"time":"2021-04-07T19:00:00.500Z","cpu":{"percent-active":2.07},"memory":{"percent-used":61.5},"load":{"load_val1":0.1,"load_val2":0.2,"load_val3":0.3}}');
  });

  it('reports a malformed line on te/errors and keeps running', async () => {
    await probe.publish('collectd/host/cpu/idle', '1617822100:abc');
    const error = await probe.waitForText('te/errors', (t) => t.includes('collectd/host/cpu/idle'));
    assert.match(error, /Invalid measurement value: "abc"\. Must be a number/);
    await probe.publish('collectd/host/cpu/idle', '1617822100:97');
    await probe.waitForText(OUT, (t) => t.includes('"idle":97'));
    assert.equal(mapper.exited, false);
  });
});
