import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Daemon, runCli } from '../../helpers/daemon';
import { MapperUnderTest } from '../../helpers/mapper-under-test';

const HEALTH = 'te/device/main/service/tedge-mapper-collectd/status/health';

/** thin-edge's tedge-watchdog (§4.5) on a real mosquitto, with a systemd-notify that records what it is told. */
describe('tedge-watchdog', { timeout: 60_000 }, () => {
  let t: MapperUnderTest;
  let dir: string;
  let env: Record<string, string>;
  const notified = (): string => (existsSync(join(dir, 'notified')) ? readFileSync(join(dir, 'notified'), 'utf8') : '');

  before(async () => {
    t = await MapperUnderTest.start('collectd', { filters: [HEALTH], service: 'tedge-mapper-collectd' });
    dir = mkdtempSync(join(tmpdir(), 'tedge-watchdog-'));
    mkdirSync(join(dir, 'units'));
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'systemd-notify'), `#!/bin/sh\necho "$*" >> ${join(dir, 'notified')}\n`);
    chmodSync(join(dir, 'bin', 'systemd-notify'), 0o755);
    // WatchdogSec=4: a health check every second. The agent's unit has none: it is not watched.
    writeFileSync(join(dir, 'units', 'tedge-mapper-collectd.service'), '[Unit]\nDescription=x\n\n[Service]\nType=notify\nWatchdogSec=4\n');
    writeFileSync(join(dir, 'units', 'tedge-agent.service'), '[Service]\nType=notify\n');
    env = { ...t.env, PATH: `${join(dir, 'bin')}:${process.env['PATH'] ?? ''}`, NOTIFY_SOCKET: '/run/systemd/notify' };
  });
  after(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pings systemd for a service that answers its health checks, and stops when it does not answer', async () => {
    const mapperPid = t.mapper.process.pid;
    const watchdog = Daemon.start('tedge', ['run', 'tedge-watchdog', '--units-dir', join(dir, 'units')], env);
    try {
      await watchdog.waitForOutput(/watching tedge-mapper-collectd: a health check every 1 s/);
      assert.doesNotMatch(watchdog.output, /watching tedge-agent/);
      const deadline = Date.now() + 10_000;
      while (notified().split('\n').filter((l) => l === `WATCHDOG=1 --pid=${mapperPid}`).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.ok(notified().split('\n').filter((l) => l === `WATCHDOG=1 --pid=${mapperPid}`).length >= 2, notified());
      assert.match(notified(), new RegExp(`^--pid=${watchdog.process.pid} READY=1$`, 'm'), 'its own unit is Type=notify');
      // A mapper that stops answering (frozen) gets no more pings: systemd would restart it after WatchdogSec.
      t.mapper.process.kill('SIGSTOP');
      await watchdog.waitForOutput(/no health check response received from tedge-mapper-collectd in time/, 5000);
      const before = notified();
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(notified().split('\n').filter((l) => l.startsWith('WATCHDOG=1 --pid')).length, before.split('\n').filter((l) => l.startsWith('WATCHDOG=1 --pid')).length);
      t.mapper.process.kill('SIGCONT');
    } finally {
      t.mapper.process.kill('SIGCONT');
      assert.equal(await watchdog.stop(), 0);
    }
  });

  it('ends (exit 0) when no tedge unit has WatchdogSec', async () => {
    writeFileSync(join(dir, 'units', 'tedge-mapper-collectd.service'), '[Service]\nType=notify\n');
    const run = await runCli('tedge', ['run', 'tedge-watchdog', '--units-dir', join(dir, 'units')], env);
    assert.equal(run.code, 0);
    assert.match(run.stderr, /no tedge unit in .* has WatchdogSec: nothing to watch/);
  });
});
