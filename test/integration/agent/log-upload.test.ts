import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ConfigLogDevice } from './config-log-setup';

const CAP = 'te/device/main///cmd/log_upload';

describe('log_upload (agent process, real mosquitto, MQTT and HTTP only)', () => {
  let dev: ConfigLogDevice;
  beforeEach(async () => {
    dev = await ConfigLogDevice.start();
    mkdirSync(dev.path('logs', 'app'));
    writeFileSync(dev.path('logs', 'app', 'app.log'), Array.from({ length: 200 }, (_, i) => `${i} ${i % 50 === 0 ? 'ERROR' : 'info'} message`).join('\n') + '\n');
    writeFileSync(dev.path('config', 'plugins', 'tedge-log-plugin.toml'), `files = [ { type = 'app', path = '${dev.path('logs', 'app')}/*.log' } ]\n`);
  });
  afterEach(() => dev.stop());

  it('publishes the types and uploads the lines that match searchText, the last `lines` of them', async () => {
    const caps = await dev.probe([CAP]);
    await dev.startAgent();
    const cap = JSON.parse(await caps.waitForText(CAP)) as { types: string[] };
    assert.ok(cap.types.includes('app'), JSON.stringify(cap));
    const done = await dev.command('log_upload', 'log-1', { type: 'app', searchText: 'ERROR', lines: 3, dateFrom: '2000-01-01T00:00:00Z', dateTo: '2999-01-01T00:00:00Z' });
    assert.equal(done['status'], 'successful', JSON.stringify(done));
    assert.equal(done['tedgeUrl'], dev.files.url('/te/v1/files/main/log_upload/app-log-1'));
    assert.equal(dev.files.stored.get('/te/v1/files/main/log_upload/app-log-1')?.toString(), '50 ERROR message\n100 ERROR message\n150 ERROR message\n');
    const tail = await dev.command('log_upload', 'log-2', { type: 'app', lines: 2, tedgeUrl: dev.files.url('/mine') });
    assert.equal(tail['status'], 'successful');
    assert.equal(dev.files.stored.get('/mine')?.toString(), '198 info message\n199 info message\n');
  });

  it('creates the toml with examples when missing; bad payloads fail with a reason', async () => {
    const toml = dev.path('config', 'plugins', 'tedge-log-plugin.toml');
    writeFileSync(toml, '');
    const { rmSync } = await import('node:fs');
    rmSync(toml);
    await dev.startAgent();
    assert.ok(existsSync(toml));
    assert.match(readFileSync(toml, 'utf8'), /software-management/);
    for (const [id, payload, pattern] of [
      ['b1', {}, /needs a 'type'/],
      ['b2', { type: 'nope' }, /unknown log type 'nope'/],
      ['b3', { type: 'software-management', lines: 'many' }, /'lines' must be a non-negative integer/],
    ] as const) {
      const done = await dev.command('log_upload', id, payload);
      assert.equal(done['status'], 'failed');
      assert.match(String(done['reason']), pattern);
    }
  });

  it('an external log plugin gets --since/--until; kill -9 during its get ends the command after the next start', async () => {
    writeFileSync(
      dev.path('log-plugins', 'slowplugin'),
      `#!/bin/sh
case "$1" in
  list) echo events ;;
  get) if [ ! -f "$(dirname "$0")/ran-once" ]; then touch "$(dirname "$0")/ran-once"; sleep 30; fi; echo "args: $*"; echo "event ERROR one" ;;
esac
`,
      { mode: 0o755 },
    );
    const caps = await dev.probe([CAP]);
    const agent = await dev.startAgent();
    await caps.waitForText(CAP, (t) => t.includes('events::slowplugin'));
    const topic = 'te/device/main///cmd/log_upload/slow-1';
    const p = await dev.probe([topic]);
    await p.publish(topic, JSON.stringify({ status: 'init', type: 'events::slowplugin', dateFrom: '1970-01-01T00:00:10Z', dateTo: '1970-01-01T00:00:20Z', lines: 10 }), { retain: true });
    await p.waitForText(topic, (t) => t.includes('"executing"'));
    for (let i = 0; i < 100 && !existsSync(dev.path('log-plugins', 'ran-once')); i++) await new Promise((r) => setTimeout(r, 50));
    await agent.stop('SIGKILL');
    await dev.startAgent();
    const done = await dev.terminal('log_upload', 'slow-1');
    assert.ok(done['status'] === 'successful' || done['status'] === 'failed', JSON.stringify(done));
    assert.equal(done['status'], 'successful', JSON.stringify(done));
    assert.equal(dev.files.stored.get('/te/v1/files/main/log_upload/events::slowplugin-slow-1')?.toString(), 'args: get events --since 10 --until 20\nevent ERROR one\n');
  });
});
