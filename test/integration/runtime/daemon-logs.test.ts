import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Daemon } from '../../helpers/daemon';
import { MapperUnderTest } from '../../helpers/mapper-under-test';

const HEALTH = 'te/device/main/service/tedge-mapper-collectd/status/health';

/** A daemon's log as journald shows it: readable lines; the local broker going and coming back; SIGHUP. */
describe('daemon logs', { timeout: 60_000 }, () => {
  let t: MapperUnderTest;
  before(async () => {
    t = await MapperUnderTest.start('collectd', { filters: [HEALTH], service: 'tedge-mapper-collectd' });
  });
  after(() => t.stop());


  it('are text lines: time, level, service, message', () => {
    assert.match(t.mapper.output, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z  INFO tedge-mapper-collectd: connected to the local MQTT broker host=127\.0\.0\.1 port=\d+ tls=false$/m);
    assert.doesNotMatch(t.mapper.output, /"level":/);
  });

  it('say when the local broker is lost and when it is back', async () => {
    await t.broker.kill();
    await t.mapper.waitForOutput(/ WARN tedge-mapper-collectd: lost the connection to the local MQTT broker at 127\.0\.0\.1:\d+: reconnecting/, 15_000);
    await t.broker.startAgain();
    await t.mapper.waitForOutput(/ INFO tedge-mapper-collectd: reconnected to the local MQTT broker at 127\.0\.0\.1:\d+ after \d+ s/, 15_000);
  });

  it('are JSON with --log-format json (and with logs.format json)', async () => {
    for (const [args, extra] of [[['--log-format', 'json'], {}], [[], { TEDGE_LOGS_FORMAT: 'json' }]] as const) {
      const d = Daemon.start('tedge-mapper', [...args, 'collectd'], { ...t.env, ...extra });
      try {
        await d.waitForOutput(/"msg":"connected to the local MQTT broker"/);
        const line = d.output.split('\n').find((l) => l.includes('connected to the local MQTT broker')) ?? '';
        const record = JSON.parse(line) as Record<string, unknown>;
        assert.equal(record['level'], 30);
        assert.equal(record['name'], 'tedge-mapper-collectd');
      } finally {
        await d.stop();
      }
    }
  });

  it('SIGHUP reads the level of system.toml again', async () => {
    writeFileSync(join(t.configDir, 'system.toml'), '[log]\ntedge-mapper = "debug"\n');
    t.mapper.process.kill('SIGHUP');
    await t.mapper.waitForOutput(/INFO tedge-mapper-collectd: SIGHUP: log level is now debug \(from system\.toml\)/, 15_000);
    assert.equal(t.mapper.exited, false);
  });
});
