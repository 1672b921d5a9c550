import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ConfigLogDevice } from './config-log-setup';

/** One request to the agent's HTTP service. */
function http(port: number, method: 'GET' | 'PUT', path: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe("config and log operations with the agent's own file transfer service", () => {
  let dev: ConfigLogDevice;
  let port: number;
  beforeEach(async () => {
    dev = await ConfigLogDevice.start({ ownFileTransfer: true });
    port = Number(dev.env['TEDGE_HTTP_BIND_PORT']);
    writeFileSync(dev.path('etc', 'app.conf'), 'v1\n', { mode: 0o600 });
    writeFileSync(dev.path('config', 'plugins', 'tedge-configuration-plugin.toml'), `files = [ { path = '${dev.path('etc', 'app.conf')}', type = 'app' } ]\n`);
    mkdirSync(dev.path('logs', 'app'));
    writeFileSync(dev.path('logs', 'app', 'a.log'), 'one\ntwo ERROR\nthree\n');
    writeFileSync(dev.path('config', 'plugins', 'tedge-log-plugin.toml'), `files = [ { type = 'app', path = '${dev.path('logs', 'app')}/*.log' } ]\n`);
  });
  afterEach(() => dev.stop());

  it('a snapshot and a log land in the file transfer service; an update is taken from it', async () => {
    await dev.startAgent();
    const snap = await dev.command('config_snapshot', 'fts-1', { type: 'app' });
    assert.equal(snap['status'], 'successful', JSON.stringify(snap));
    assert.equal(snap['tedgeUrl'], `http://127.0.0.1:${port}/te/v1/files/main/config_snapshot/app-fts-1`);
    assert.deepEqual(await http(port, 'GET', '/te/v1/files/main/config_snapshot/app-fts-1'), { status: 200, body: 'v1\n' });

    const log = await dev.command('log_upload', 'fts-2', { type: 'app', searchText: 'ERROR' });
    assert.equal(log['status'], 'successful', JSON.stringify(log));
    assert.deepEqual(await http(port, 'GET', '/te/v1/files/main/log_upload/app-fts-2'), { status: 200, body: 'two ERROR\n' });

    assert.equal((await http(port, 'PUT', '/te/v1/files/main/config_update/app-fts-3', 'v2\n')).status < 300, true);
    const update = await dev.command('config_update', 'fts-3', { type: 'app', tedgeUrl: `http://127.0.0.1:${port}/te/v1/files/main/config_update/app-fts-3` });
    assert.equal(update['status'], 'successful', JSON.stringify(update));
    assert.equal(readFileSync(dev.path('etc', 'app.conf'), 'utf8'), 'v2\n');
    assert.equal(statSync(dev.path('etc', 'app.conf')).mode & 0o777, 0o600);
  });
});
