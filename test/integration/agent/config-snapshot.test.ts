import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ConfigLogDevice } from './config-log-setup';

const SNAPSHOT_CAP = 'te/device/main///cmd/config_snapshot';
const UPDATE_CAP = 'te/device/main///cmd/config_update';

const PLUGIN = `#!/bin/sh
case "$1" in
  list) echo settings ;;
  get) printf 'from the plugin: %s\\n' "$2" ;;
  *) exit 0 ;;
esac
`;

describe('config_snapshot (agent process, real mosquitto, MQTT and HTTP only)', () => {
  let dev: ConfigLogDevice;
  beforeEach(async () => {
    dev = await ConfigLogDevice.start();
    writeFileSync(dev.path('etc', 'app.conf'), 'listen 1883\n');
    writeFileSync(dev.path('config', 'plugins', 'tedge-configuration-plugin.toml'), `files = [ { path = '${dev.path('etc', 'app.conf')}', type = 'app' } ]\n`);
    writeFileSync(dev.path('config-plugins', 'myplugin'), PLUGIN, { mode: 0o755 });
  });
  afterEach(() => dev.stop());

  it('publishes the types of the toml and of plugins, and republishes them when the toml changes', async () => {
    const p = await dev.probe([SNAPSHOT_CAP, UPDATE_CAP]);
    await dev.startAgent();
    const want = JSON.stringify({ types: ['app', 'settings::myplugin', 'tedge-configuration-plugin'] });
    await p.waitForText(SNAPSHOT_CAP, (t) => t === want);
    await p.waitForText(UPDATE_CAP, (t) => t === want);
    writeFileSync(dev.path('config', 'plugins', 'tedge-configuration-plugin.toml'), `files = [ { path = '/etc/hosts', type = 'hosts' } ]\n`);
    await p.waitForText(SNAPSHOT_CAP, (t) => t === JSON.stringify({ types: ['hosts', 'settings::myplugin', 'tedge-configuration-plugin'] }));
  });

  it('creates the toml with the agent\'s own files when there is none', async () => {
    rmSync(dev.path('config', 'plugins', 'tedge-configuration-plugin.toml'));
    const p = await dev.probe([SNAPSHOT_CAP]);
    await dev.startAgent();
    await p.waitForText(SNAPSHOT_CAP, (t) => t === JSON.stringify({ types: ['settings::myplugin', 'tedge-configuration-plugin', 'tedge-log-plugin', 'tedge.ini'] }));
    const done = await dev.command('config_snapshot', 'snap-0', { type: 'tedge-configuration-plugin' });
    assert.equal(done['status'], 'successful');
    assert.match(dev.files.stored.get('/te/v1/files/main/config_snapshot/tedge-configuration-plugin-snap-0')?.toString() ?? '', /type = "tedge.ini"/);
  });

  it('uploads the file to the tedgeUrl it fills in; success adds path', async () => {
    await dev.startAgent();
    const done = await dev.command('config_snapshot', 'snap-1', { type: 'app' });
    const url = dev.files.url('/te/v1/files/main/config_snapshot/app-snap-1');
    assert.deepEqual(done, { status: 'successful', type: 'app', tedgeUrl: url, path: dev.path('etc', 'app.conf') });
    assert.equal(dev.files.stored.get('/te/v1/files/main/config_snapshot/app-snap-1')?.toString(), 'listen 1883\n');
  });

  it('uploads what an external plugin gets to the given tedgeUrl, keeping unknown fields', async () => {
    await dev.startAgent();
    const done = await dev.command('config_snapshot', 'snap-2', { type: 'settings::myplugin', tedgeUrl: dev.files.url('/up/here'), extra: { keep: 1 } });
    assert.equal(done['status'], 'successful');
    assert.deepEqual(done['extra'], { keep: 1 });
    assert.equal(dev.files.stored.get('/up/here')?.toString(), 'from the plugin: settings\n');
  });

  it('bad input: no type or an unknown type fails with a reason; a broken toml entry goes to te/errors and the rest works', async () => {
    writeFileSync(dev.path('config', 'plugins', 'tedge-configuration-plugin.toml'), `files = [ { path = 'relative' }, { path = '${dev.path('etc', 'app.conf')}', type = 'app' } ]\n`);
    const errors = await dev.probe(['te/errors']);
    await dev.startAgent();
    await errors.waitForText('te/errors', (t) => t.includes('tedge-configuration-plugin.toml: files[0]') && t.includes("'path' must be absolute"));
    const noType = await dev.command('config_snapshot', 'bad-1', { tedgeUrl: dev.files.url('/x') });
    assert.equal(noType['status'], 'failed');
    assert.match(String(noType['reason']), /needs a 'type'/);
    const unknown = await dev.command('config_snapshot', 'bad-2', { type: '/etc/shadow' });
    assert.equal(unknown['status'], 'failed');
    assert.match(String(unknown['reason']), /unknown configuration type '\/etc\/shadow'/);
    const ok = await dev.command('config_snapshot', 'ok-1', { type: 'app' });
    assert.equal(ok['status'], 'successful');
  });
});
