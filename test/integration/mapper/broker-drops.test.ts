import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Daemon } from '../../helpers/daemon';
import { MapperUnderTest } from '../../helpers/mapper-under-test';

const METRICS = 'te/device/main/service/tedge-mapper-collectd/status/metrics/broker';

describe('messages the local broker dropped while the mapper was down', { timeout: 60_000 }, () => {
  let underTest: MapperUnderTest;

  before(async () => {
    // A small queue and a fast $SYS: the drops happen and are counted within the test.
    underTest = await MapperUnderTest.start('collectd', { filters: [METRICS], service: 'tedge-mapper-collectd', brokerConfig: 'max_queued_messages 10\nsys_interval 1' });
  });
  after(() => underTest.stop());

  it('are counted after the restart, logged and published on status/metrics/broker', async () => {
    const { probe, env } = underTest;
    await probe.waitForText(METRICS, (t) => t.includes('"dropped_while_down":0'));
    await underTest.mapper.stop();
    for (let i = 0; i < 100; i++) await probe.publish('collectd/host/cpu/user', `${1700000000 + i}:${i}`);
    await new Promise((r) => setTimeout(r, 1500)); // the broker's counter is published every second here
    const mapper = Daemon.start('tedge-mapper', ['collectd'], env);
    try {
      const metrics = JSON.parse(await probe.waitForText(METRICS, (t) => !t.includes('"dropped_while_down":0'), 20_000)) as { dropped_while_down: number };
      // 100 queued for a session that keeps 10 (plus what mosquitto holds in flight): about 90 dropped.
      assert.ok(metrics.dropped_while_down >= 80 && metrics.dropped_while_down <= 100, `dropped_while_down ${metrics.dropped_while_down}`);
      await probe.waitFor(() => mapper.output.includes('the local broker dropped'), 'the log line', 5000).catch(() => {});
      assert.match(mapper.output, /the local broker dropped \d+ messages while the mapper was down/);
    } finally {
      await mapper.stop();
    }
  });
});
