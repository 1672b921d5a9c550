import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ConfigLogDevice } from './config-log-setup';

const PLUGIN = `#!/bin/sh
# keeps its one type "db" in the file next to it
STATE="$(dirname "$0")/db.state"
case "$1" in
  list) echo db ;;
  get) cat "$STATE" ;;
  prepare|verify|rollback) echo "$1" >> "$STATE.calls" ;;
  set) echo set >> "$STATE.calls"; cp "$3" "$STATE" ;;
  *) exit 1 ;;
esac
`;

describe('config_update (agent process, real mosquitto, MQTT and HTTP only)', () => {
  let dev: ConfigLogDevice;
  beforeEach(async () => {
    dev = await ConfigLogDevice.start();
    writeFileSync(dev.path('etc', 'app.conf'), 'v1\n', { mode: 0o640 });
    writeFileSync(
      dev.path('config', 'plugins', 'tedge-configuration-plugin.toml'),
      `files = [ { path = '${dev.path('etc', 'app.conf')}', type = 'app' }, { path = '${dev.path('etc', 'fresh', 'new.conf')}', type = 'new', mode = 0o600 } ]\n`,
    );
    dev.files.stored.set('/remote/app.conf', Buffer.from('v2\n'));
  });
  afterEach(() => dev.stop());

  it('replaces the file from remoteUrl atomically, keeping its mode; a new file gets the toml mode', async () => {
    await dev.startAgent();
    const done = await dev.command('config_update', 'up-1', { type: 'app', remoteUrl: dev.files.url('/remote/app.conf') });
    assert.deepEqual(done, { status: 'successful', type: 'app', remoteUrl: dev.files.url('/remote/app.conf'), path: dev.path('etc', 'app.conf') });
    assert.equal(readFileSync(dev.path('etc', 'app.conf'), 'utf8'), 'v2\n');
    assert.equal(statSync(dev.path('etc', 'app.conf')).mode & 0o777, 0o640);
    const fresh = await dev.command('config_update', 'up-2', { type: 'new', tedgeUrl: dev.files.url('/remote/app.conf') });
    assert.equal(fresh['status'], 'successful');
    assert.equal(statSync(dev.path('etc', 'fresh', 'new.conf')).mode & 0o777, 0o600);
  });

  it('refuses a path that is not in the toml, and a download that fails, leaving the files as they were', async () => {
    await dev.startAgent();
    const other = dev.path('etc', 'other.conf');
    const refused = await dev.command('config_update', 'no-1', { type: other, remoteUrl: dev.files.url('/remote/app.conf'), path: other });
    assert.equal(refused['status'], 'failed');
    assert.match(String(refused['reason']), /unknown configuration type/);
    assert.ok(!existsSync(other));
    const missing = await dev.command('config_update', 'no-2', { type: 'app', remoteUrl: dev.files.url('/remote/missing') });
    assert.equal(missing['status'], 'failed');
    assert.match(String(missing['reason']), /HTTP 404/);
    assert.equal(readFileSync(dev.path('etc', 'app.conf'), 'utf8'), 'v1\n');
    const noUrl = await dev.command('config_update', 'no-3', { type: 'app' });
    assert.match(String(noUrl['reason']), /needs a 'tedgeUrl' or 'remoteUrl'/);
  });

  it('drives an external config plugin: prepare, set, verify', async () => {
    writeFileSync(dev.path('config-plugins', 'dbplugin'), PLUGIN, { mode: 0o755 });
    const caps = await dev.probe(['te/device/main///cmd/config_update']);
    await dev.startAgent();
    await caps.waitForText('te/device/main///cmd/config_update', (t) => t.includes('db::dbplugin'));
    dev.files.stored.set('/remote/db', Buffer.from('db v2'));
    const done = await dev.command('config_update', 'db-1', { type: 'db::dbplugin', tedgeUrl: dev.files.url('/remote/db') });
    assert.equal(done['status'], 'successful', JSON.stringify(done));
    assert.equal(readFileSync(dev.path('config-plugins', 'db.state'), 'utf8'), 'db v2');
    assert.deepEqual(readFileSync(dev.path('config-plugins', 'db.state.calls'), 'utf8').trim().split('\n'), ['prepare', 'set', 'verify']);
  });

  it('kill -9 during the download: after the next start the command ends, the download resumed', async () => {
    const body = Buffer.alloc(256 * 1024, 'x');
    let gets = 0;
    let ranges: string[] = [];
    dev.files.onGet = (req, res) => {
      if (req.url !== '/slow') return false;
      gets++;
      if (gets === 1) {
        // Half the file, then nothing: the agent is killed while it waits.
        res.writeHead(200, { 'content-length': String(body.length), etag: '"e1"' });
        res.write(body.subarray(0, body.length / 2));
        return true;
      }
      const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      ranges.push(req.headers.range ?? '');
      const start = m ? Number(m[1]) : 0;
      res.writeHead(m ? 206 : 200, { 'content-length': String(body.length - start), ...(m ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}) });
      res.end(body.subarray(start));
      return true;
    };
    const agent = await dev.startAgent();
    const topic = 'te/device/main///cmd/config_update/kill-1';
    const p = await dev.probe([topic]);
    await p.publish(topic, JSON.stringify({ status: 'init', type: 'app', remoteUrl: dev.files.url('/slow') }), { retain: true });
    await p.waitForText(topic, (t) => t.includes('"executing"'));
    for (let i = 0; i < 100 && gets === 0; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    await agent.stop('SIGKILL');
    ranges = [];
    await dev.startAgent();
    const done = await dev.terminal('config_update', 'kill-1');
    assert.equal(done['status'], 'successful', JSON.stringify(done));
    assert.equal(readFileSync(dev.path('etc', 'app.conf')).length, body.length);
    assert.equal(statSync(dev.path('etc', 'app.conf')).mode & 0o777, 0o640);
    assert.match(ranges[0] ?? '', /^bytes=[1-9]\d*-$/, 'the second start resumed with a Range request');
  });
});
