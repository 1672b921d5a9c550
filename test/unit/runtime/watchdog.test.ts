import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TedgeConfig } from '../../../src/config/tedge-config';
import { WATCHED_SERVICES, freshHealthPid, watchdogSecOf, watchedServices, watchedUnits } from '../../../src/runtime/watchdog';
import { REPO_ROOT } from '../../helpers/paths';

describe('watchdogSecOf', () => {
  const rows: Array<[string, string, number | undefined]> = [
    ['in [Service]', '[Unit]\nDescription=a\n[Service]\nType=notify\nWatchdogSec=60\n', 60],
    ['spaces around =', '[Service]\nWatchdogSec = 30\n', 30],
    ['absent', '[Service]\nType=notify\n', undefined],
    ['in another section', '[Unit]\nWatchdogSec=60\n[Service]\n', undefined],
    ['not whole seconds (thin-edge reads a number)', '[Service]\nWatchdogSec=1min\n', undefined],
    ['zero: no watchdog', '[Service]\nWatchdogSec=0\n', undefined],
  ];
  for (const [name, text, sec] of rows) it(name, () => assert.equal(watchdogSecOf(text), sec));
});

describe('freshHealthPid', () => {
  const rows: Array<[string, string, number | undefined]> = [
    ['fresh unix time', '{"status":"up","pid":42,"time":1700000010}', 42],
    ['same second', '{"status":"up","pid":42,"time":1700000000}', 42],
    ['fresh RFC 3339', '{"status":"up","pid":42,"time":"2023-11-14T22:13:21Z"}', 42],
    ['stale', '{"status":"up","pid":42,"time":1699999999}', undefined],
    ['no time (a last will)', '{"status":"down","pid":42}', undefined],
    ['no pid', '{"status":"up","time":1700000010}', undefined],
    ['not JSON', 'up', undefined],
  ];
  for (const [name, payload, pid] of rows) it(name, () => assert.equal(freshHealthPid(payload, 1_700_000_000), pid));
});

describe('watched services: from the configuration and the units', () => {
  it('thin-edge units, and the mapper of each connected cloud profile through its template unit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tedge-watchdog-'));
    try {
      writeFileSync(join(dir, 'tedge.toml'), '[c8y.profiles.second]\nurl = "b.example"\n[c8y.profiles.offline]\nurl = "c.example"\n[az.profiles.two]\nurl = "d.example"\n');
      mkdirSync(join(dir, 'mosquitto-conf'));
      // Connected: second (c8y) and two (az); offline has a url but no bridge file.
      writeFileSync(join(dir, 'mosquitto-conf', 'c8y@second-bridge.conf'), '');
      writeFileSync(join(dir, 'mosquitto-conf', 'az@two-bridge.conf'), '');
      const units = watchedUnits(TedgeConfig.load(dir, {}));
      assert.deepEqual(units.slice(WATCHED_SERVICES.length), [
        { name: 'tedge-mapper-c8y@second', unitFile: 'tedge-mapper-c8y@.service' },
        { name: 'tedge-mapper-az@two', unitFile: 'tedge-mapper-az@.service' },
      ]);
      // The packaged units: every one has WatchdogSec=60, so each is checked every 15 s.
      const packaged = (file: string): string | undefined => (existsSync(join(REPO_ROOT, 'packaging', 'systemd', file)) ? readFileSync(join(REPO_ROOT, 'packaging', 'systemd', file), 'utf8') : undefined);
      const services = watchedServices(units, packaged, 'main');
      assert.deepEqual(
        services.map((s) => [s.name, s.entity, s.intervalMs]),
        [...WATCHED_SERVICES, 'tedge-mapper-c8y@second', 'tedge-mapper-az@two'].map((name) => [name, `device/main/service/${name}`, 15_000]),
      );
      // A unit without WatchdogSec, or absent, is not watched.
      assert.deepEqual(watchedServices(units, (file) => (file === 'tedge-agent.service' ? '[Service]\nWatchdogSec=8\n' : file === 'tedge-mapper-c8y@.service' ? '[Service]\n' : undefined), 'child1').map((s) => [s.name, s.entity, s.intervalMs]), [['tedge-agent', 'device/child1/service/tedge-agent', 2000]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
