import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ConfigLogDevice } from './config-log-setup';

describe('config and log operations of a child device agent', () => {
  let dev: ConfigLogDevice;
  beforeEach(async () => {
    dev = await ConfigLogDevice.start();
    // The child's own files: its config dir is its own (on its own machine it would be /etc/tedge).
    mkdirSync(dev.path('child', 'plugins'), { recursive: true });
    writeFileSync(dev.path('etc', 'child.conf'), 'child v1\n');
    writeFileSync(dev.path('child', 'plugins', 'tedge-configuration-plugin.toml'), `files = [ { path = '${dev.path('etc', 'child.conf')}', type = 'child-app' } ]\n`);
    writeFileSync(dev.path('logs', 'child.log'), 'child ERROR here\nchild fine\n');
    writeFileSync(dev.path('child', 'plugins', 'tedge-log-plugin.toml'), `files = [ { type = 'child-log', path = '${dev.path('logs', 'child.log')}' } ]\n`);
  });
  afterEach(() => dev.stop());

  it("serves its own device's commands, with its own capabilities, files going to the main device's service", async () => {
    const caps = await dev.probe(['te/device/child1///cmd/+']);
    await dev.startAgent({ child: 'child1', env: { TEDGE_CONFIG_DIR: dev.path('child'), TEDGE_AGENT_STATE_PATH: dev.path('child-state') } });
    await caps.waitForText('te/device/child1///cmd/config_snapshot', (t) => t === JSON.stringify({ types: ['child-app', 'tedge-configuration-plugin'] }));
    await caps.waitForText('te/device/child1///cmd/log_upload', (t) => t === JSON.stringify({ types: ['child-log'] }));

    const snap = await dev.command('config_snapshot', 'c-1', { type: 'child-app' }, 20_000, 'child1');
    assert.equal(snap['status'], 'successful', JSON.stringify(snap));
    assert.equal(snap['tedgeUrl'], dev.files.url('/te/v1/files/child1/config_snapshot/child-app-c-1'));
    assert.equal(dev.files.stored.get('/te/v1/files/child1/config_snapshot/child-app-c-1')?.toString(), 'child v1\n');

    dev.files.stored.set('/te/v1/files/child1/config_update/child-app-c-2', Buffer.from('child v2\n'));
    const update = await dev.command('config_update', 'c-2', { type: 'child-app', tedgeUrl: dev.files.url('/te/v1/files/child1/config_update/child-app-c-2') }, 20_000, 'child1');
    assert.equal(update['status'], 'successful', JSON.stringify(update));
    assert.equal(readFileSync(dev.path('etc', 'child.conf'), 'utf8'), 'child v2\n');

    const log = await dev.command('log_upload', 'c-3', { type: 'child-log', searchText: 'ERROR' }, 20_000, 'child1');
    assert.equal(log['status'], 'successful', JSON.stringify(log));
    assert.equal(dev.files.stored.get('/te/v1/files/child1/log_upload/child-log-c-3')?.toString(), 'child ERROR here\n');
  });
});
