import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { elevatedGet } from '../../../src/agent/operations/plugin-support/elevated-get';
import { BIN_DIR } from '../../helpers/daemon';

const TEDGE = join(BIN_DIR, 'tedge.js');

function run(script: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TEDGE_CONFIG_DIR: '' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('tedge file-config-plugin / file-log-plugin (the built-in plugins as programs, for sudo)', () => {
  let dir: string;
  const cfg = (): string => join(dir, 'config');
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-file-plugins-'));
    mkdirSync(join(dir, 'config', 'plugins'), { recursive: true });
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'app.conf'), Buffer.from([0x00, 0xff, 0x0a, 0x41]));
    writeFileSync(join(dir, 'config', 'plugins', 'tedge-configuration-plugin.toml'), `files = [ { path = '${dir}/app.conf', type = 'app' } ]\n`);
    writeFileSync(join(dir, 'logs', 'old.log'), 'old\n');
    writeFileSync(join(dir, 'logs', 'new.log'), 'new');
    utimesSync(join(dir, 'logs', 'old.log'), 1000, 1000);
    writeFileSync(join(dir, 'config', 'plugins', 'tedge-log-plugin.toml'), `files = [ { type = 'app', path = '${dir}/logs/*.log' } ]\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists and gets config types, bytes as they are', async () => {
    const list = await run(TEDGE, ['--config-dir', cfg(), 'file-config-plugin', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.stdout.trim().split('\n').sort(), ['app', 'tedge-configuration-plugin']);
    const out = join(dir, 'got');
    const get = elevatedGet('file-config-plugin', cfg(), true, [process.execPath, TEDGE], '/usr/bin/sudo');
    assert.ok(get);
    await get(['app'], out, { signal: new AbortController().signal });
    assert.deepEqual(readFileSync(out), Buffer.from([0x00, 0xff, 0x0a, 0x41]));
    const unknown = await run(TEDGE, ['--config-dir', cfg(), 'file-config-plugin', 'get', '/etc/shadow']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown configuration type '\/etc\/shadow'/);
  });

  it('gets log types with --since, also under the tedge-file-log-plugin name', async () => {
    const link = join(dir, 'tedge-file-log-plugin');
    symlinkSync(TEDGE, link);
    const list = await run(link, ['--config-dir', cfg(), 'list']);
    assert.equal(list.stdout, 'app\n');
    const all = await run(link, ['--config-dir', cfg(), 'get', 'app']);
    assert.equal(all.stdout, 'filename: old.log\nold\nfilename: new.log\nnew\n');
    const recent = await run(link, ['--config-dir', cfg(), 'get', 'app', '--since', '2000', '--until', '9999999999']);
    assert.equal(recent.stdout, 'filename: new.log\nnew\n');
    const none = await run(link, ['--config-dir', cfg(), 'get', 'app', '--since', '99999999999']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no log files for type 'app'/);
  });

  it('is not offered without sudo', () => {
    assert.equal(elevatedGet('file-log-plugin', cfg(), false), undefined);
    assert.equal(elevatedGet('file-log-plugin', cfg(), true, [process.execPath, TEDGE], undefined), undefined);
  });
});
