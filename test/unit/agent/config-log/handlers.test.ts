import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ConfigPlugins } from '../../../../src/agent/operations/config/config-plugins';
import { ConfigSnapshotHandler } from '../../../../src/agent/operations/config/config-snapshot';
import { ConfigUpdateHandler } from '../../../../src/agent/operations/config/config-update';
import { LogPlugins } from '../../../../src/agent/operations/log/log-plugins';
import { LogUploadHandler } from '../../../../src/agent/operations/log/log-upload';
import { fakeContext, fakeRun } from './fake-run';

/** PUT stores, GET serves what was stored (or `files`), like the file transfer service. */
function fileServer(): Promise<{ server: Server; base: string; stored: Map<string, Buffer> }> {
  const stored = new Map<string, Buffer>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '';
      if (req.method === 'PUT') {
        stored.set(url, Buffer.concat(chunks));
        res.writeHead(201).end();
      } else {
        const body = stored.get(url);
        if (body === undefined) res.writeHead(404).end('not found');
        else res.writeHead(200, { 'content-length': String(body.length) }).end(body);
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, stored })));
}

const PLUGIN = `#!/bin/sh
# a config plugin keeping its one type "db" in $STATE
STATE="$(dirname "$0")/state"
case "$1" in
  list) echo db ;;
  get) cat "$STATE" ;;
  prepare) echo "prepare $2" >> "$STATE.calls" ;;
  set) echo "set $2" >> "$STATE.calls"; if grep -q broken "$3"; then echo "bad config" >&2; exit 2; fi; cp "$3" "$STATE"
       printf ':::begin-tedge:::\\n{"restartAgent": false, "applied": "db"}\\n:::end-tedge:::\\n' ;;
  verify) echo "verify $2" >> "$STATE.calls" ;;
  rollback) echo "rollback $2" >> "$STATE.calls" ;;
  *) exit 1 ;;
esac
`;

describe('config and log handlers (fake executor, real files and HTTP)', () => {
  let fts: Awaited<ReturnType<typeof fileServer>>;
  let dir: string;
  let ctx: ReturnType<typeof fakeContext>;
  const plugins = (): ConfigPlugins => new ConfigPlugins();

  before(async () => {
    fts = await fileServer();
  });
  after(() => fts.server.close());
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-cfg-'));
    for (const d of ['plugins', 'tmp', 'config-plugins', 'log-plugins', 'etc', 'logs']) mkdirSync(join(dir, d));
    const port = Number(new URL(fts.base).port);
    ctx = fakeContext(dir, {
      'configuration.plugin_paths': [join(dir, 'config-plugins')],
      'log.plugin_paths': [join(dir, 'log-plugins')],
      'sudo.enable': false,
      'tmp.path': join(dir, 'tmp'),
      'logs.path': join(dir, 'logs'),
      'http.client.host': '127.0.0.1',
      'http.client.port': port,
      'agent.enable.config_snapshot': true,
      'agent.enable.config_update': true,
      'agent.enable.log_upload': true,
    });
    writeFileSync(join(dir, 'etc', 'app.conf'), 'port=1\n', { mode: 0o640 });
    writeFileSync(join(dir, 'plugins', 'tedge-configuration-plugin.toml'), `files = [ { path = '${dir}/etc/app.conf', type = 'app' }, { path = '${dir}/etc/new.conf', type = 'new', mode = 0o600 }, { bad = 1 } ]\n`);
  });

  it('advertises file types bare, plugin types as <type>::<plugin>, and reports the broken entry', async () => {
    writeFileSync(join(dir, 'config-plugins', 'dbplugin'), PLUGIN, { mode: 0o755 });
    writeFileSync(join(dir, 'config-plugins', 'broken'), '#!/bin/sh\necho nope >&2; exit 1\n', { mode: 0o755 });
    const cap = await new ConfigSnapshotHandler(plugins()).capability(ctx);
    assert.deepEqual(cap, { types: ['app', 'db::dbplugin', 'new', 'tedge-configuration-plugin'] });
    assert.equal(ctx.errors.length, 2, ctx.errors.join('\n'));
    assert.match(ctx.errors[0] ?? '', /tedge-configuration-plugin\.toml: files\[2\]/);
    assert.match(ctx.errors[1] ?? '', /config plugin broken skipped: plugin broken list exited with 1: nope/);
  });

  it('config_snapshot uploads the file to the tedgeUrl it fills in, and adds path', async () => {
    const run = fakeRun(ctx, 'config_snapshot', 'c1', { type: 'app' });
    const outcome = await new ConfigSnapshotHandler(plugins()).execute(run);
    const url = `${fts.base}/te/v1/files/main/config_snapshot/app-c1`;
    assert.deepEqual(outcome, { status: 'successful', payload: { tedgeUrl: url, path: join(dir, 'etc', 'app.conf') } });
    assert.deepEqual(run.checkpoints, [{ tedgeUrl: url }]);
    assert.equal(fts.stored.get('/te/v1/files/main/config_snapshot/app-c1')?.toString(), 'port=1\n');
    assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
  });

  it('config_snapshot fails with a reason: missing type, unknown type, missing file, upload refused', async () => {
    const h = new ConfigSnapshotHandler(plugins());
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /needs a 'type'/],
      [{ type: '/etc/passwd' }, /unknown configuration type '\/etc\/passwd' \(supported: app, new, tedge-configuration-plugin/],
      [{ type: 'new' }, /cannot read .*new\.conf/],
      [{ type: 'app', tedgeUrl: `${fts.base.replace(/:\d+$/, ':1')}/x` }, /upload to .* failed: .*ECONNREFUSED/],
      [{ type: 'x::nosuchplugin' }, /unknown configuration type/],
    ];
    for (const [payload, pattern] of cases) {
      const o = await h.execute(fakeRun(ctx, 'config_snapshot', 'c2', payload));
      assert.equal(o.status, 'failed', JSON.stringify(payload));
      assert.match(o.status === 'failed' ? o.reason : '', pattern);
    }
  });

  it('config_update replaces the declared file keeping its mode; a new file gets the toml mode', async () => {
    fts.stored.set('/cfg/app', Buffer.from('port=2\n'));
    const h = new ConfigUpdateHandler(plugins());
    const o = await h.execute(fakeRun(ctx, 'config_update', 'u1', { type: 'app', remoteUrl: `${fts.base}/cfg/app` }));
    assert.deepEqual(o, { status: 'successful', payload: { path: join(dir, 'etc', 'app.conf') } });
    assert.equal(readFileSync(join(dir, 'etc', 'app.conf'), 'utf8'), 'port=2\n');
    assert.equal(statSync(join(dir, 'etc', 'app.conf')).mode & 0o777, 0o640);
    const o2 = await h.execute(fakeRun(ctx, 'config_update', 'u2', { type: 'new', tedgeUrl: `${fts.base}/cfg/app` }));
    assert.equal(o2.status, 'successful');
    assert.equal(statSync(join(dir, 'etc', 'new.conf')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(join(dir, 'tmp')), [], 'work dirs are removed');
  });

  it('config_update refuses a path that is not declared, a missing URL, and a failed download', async () => {
    const h = new ConfigUpdateHandler(plugins());
    const cases: [Record<string, string>, RegExp][] = [
      [{ type: join(dir, 'etc', 'other.conf'), remoteUrl: `${fts.base}/cfg/app` }, /unknown configuration type/],
      [{ type: 'app' }, /needs a 'tedgeUrl' or 'remoteUrl'/],
      [{ type: 'app', remoteUrl: `${fts.base}/missing` }, /download of .*missing failed: HTTP 404/],
    ];
    for (const [payload, pattern] of cases) {
      const o = await h.execute(fakeRun(ctx, 'config_update', 'u3', payload));
      assert.equal(o.status, 'failed');
      assert.match(o.status === 'failed' ? o.reason : '', pattern);
    }
    assert.ok(!existsSync(join(dir, 'etc', 'other.conf')));
    assert.equal(readFileSync(join(dir, 'etc', 'app.conf'), 'utf8'), 'port=1\n');
  });

  it('config_update with an external plugin: prepare, set, verify; its JSON is merged; a failing set is rolled back', async () => {
    writeFileSync(join(dir, 'config-plugins', 'dbplugin'), PLUGIN, { mode: 0o755 });
    writeFileSync(join(dir, 'config-plugins', 'state'), 'v1');
    fts.stored.set('/cfg/db', Buffer.from('v2'));
    fts.stored.set('/cfg/broken', Buffer.from('broken'));
    const h = new ConfigUpdateHandler(plugins());
    const o = await h.execute(fakeRun(ctx, 'config_update', 'e1', { type: 'db::dbplugin', tedgeUrl: `${fts.base}/cfg/db` }));
    assert.deepEqual(o, { status: 'successful', payload: { restartAgent: false, applied: 'db' } });
    assert.equal(readFileSync(join(dir, 'config-plugins', 'state'), 'utf8'), 'v2');
    const bad = await h.execute(fakeRun(ctx, 'config_update', 'e2', { type: 'db::dbplugin', tedgeUrl: `${fts.base}/cfg/broken` }));
    assert.equal(bad.status, 'failed');
    assert.match(bad.status === 'failed' ? bad.reason : '', /failed at set: plugin dbplugin set exited with 2: bad config \(rolled back\)/);
    assert.deepEqual(readFileSync(join(dir, 'config-plugins', 'state.calls'), 'utf8').trim().split('\n'), ['prepare db', 'set db', 'verify db', 'prepare db', 'set db', 'rollback db']);
    const snap = await new ConfigSnapshotHandler(plugins()).execute(fakeRun(ctx, 'config_snapshot', 's1', { type: 'db::dbplugin' }));
    assert.equal(snap.status, 'successful');
    assert.equal(fts.stored.get('/te/v1/files/main/config_snapshot/db::dbplugin-s1')?.toString(), 'v2');
  });

  it('config_update restarts the entry\'s service with system.toml\'s command; a service that does not come up is rolled back', async () => {
    const calls = join(dir, 'service.calls');
    const svc = (action: string, code: number): string => `["/bin/sh", "-c", "echo ${action} $0 >> ${calls}; exit ${code}", "{}"]`;
    const system = (active: number): string =>
      `[init]\nname = "test"\n${['restart', 'stop', 'start', 'enable', 'disable'].map((a) => `${a} = ${svc(a, 0)}`).join('\n')}\nis_active = ${svc('is_active', active)}\n`;
    writeFileSync(join(dir, 'plugins', 'tedge-configuration-plugin.toml'), `files = [ { path = '${dir}/etc/app.conf', type = 'app', service = 'appd' } ]\n`);
    fts.stored.set('/cfg/svc', Buffer.from('port=3\n'));
    writeFileSync(join(dir, 'system.toml'), system(0));
    const h = new ConfigUpdateHandler(plugins());
    const ok = await h.execute(fakeRun(ctx, 'config_update', 's1', { type: 'app', remoteUrl: `${fts.base}/cfg/svc` }));
    assert.equal(ok.status, 'successful', JSON.stringify(ok));
    assert.deepEqual(readFileSync(calls, 'utf8').trim().split('\n'), ['restart appd', 'is_active appd']);
    writeFileSync(join(dir, 'system.toml'), system(3));
    fts.stored.set('/cfg/svc', Buffer.from('port=4\n'));
    const bad = await h.execute(fakeRun(ctx, 'config_update', 's2', { type: 'app', remoteUrl: `${fts.base}/cfg/svc` }));
    assert.equal(bad.status, 'failed');
    assert.match(bad.status === 'failed' ? bad.reason : '', /failed at verify: service appd is not running after the update of .*app\.conf \(rolled back\)/);
    assert.equal(readFileSync(join(dir, 'etc', 'app.conf'), 'utf8'), 'port=3\n', 'the previous file is back');
    assert.equal(statSync(join(dir, 'etc', 'app.conf')).mode & 0o777, 0o640);
  });

  it('log_upload: globbed files, dateFrom by mtime, searchText and the tail of lines', async () => {
    const logs = join(dir, 'logs', 'app');
    mkdirSync(logs);
    writeFileSync(join(logs, 'old.log'), 'old ERROR 0\n');
    writeFileSync(join(logs, 'a.log'), Array.from({ length: 50 }, (_, i) => `line ${i}${i % 10 === 0 ? ' ERROR' : ''}`).join('\n'));
    utimesSync(join(logs, 'old.log'), 1000, 1000);
    writeFileSync(join(dir, 'plugins', 'tedge-log-plugin.toml'), `files = [ { type = 'app', path = '${logs}/*.log' } ]\n`);
    writeFileSync(join(dir, 'systemctl'), '#!/bin/sh\necho "ssh.service loaded active running OpenSSH"\n', { mode: 0o755 });
    const h = new LogUploadHandler(new LogPlugins({ journalctl: '/nonexistent/journalctl', systemctl: join(dir, 'systemctl') }));
    assert.deepEqual((await h.capability(ctx))?.['types'], ['all-units::journald', 'app', 'ssh::journald']);
    const o = await h.execute(fakeRun(ctx, 'log_upload', 'l1', { type: 'app', dateFrom: '2000-01-01T00:00:00Z', searchText: 'ERROR', lines: 3 }));
    assert.equal(o.status, 'successful', JSON.stringify(o));
    assert.equal(fts.stored.get('/te/v1/files/main/log_upload/app-l1')?.toString(), 'line 20 ERROR\nline 30 ERROR\nline 40 ERROR\n');
    await h.execute(fakeRun(ctx, 'log_upload', 'l2', { type: 'app', lines: 2 }));
    assert.equal(fts.stored.get('/te/v1/files/main/log_upload/app-l2')?.toString(), 'line 48\nline 49\n');
    await h.execute(fakeRun(ctx, 'log_upload', 'l3', { type: 'app', searchText: 'ERROR', lines: 100 }));
    assert.match(fts.stored.get('/te/v1/files/main/log_upload/app-l3')?.toString() ?? '', /^old ERROR 0\nline 0 ERROR\n/);
    const journald = await h.execute(fakeRun(ctx, 'log_upload', 'l4', { type: 'all-units::journald' }));
    assert.match(journald.status === 'failed' ? journald.reason : '', /plugin journald get could not be started/);
    const unknown = await h.execute(fakeRun(ctx, 'log_upload', 'l5', { type: 'nope' }));
    assert.match(unknown.status === 'failed' ? unknown.reason : '', /unknown log type 'nope' \(supported: all-units::journald, app, ssh::journald\)/);
  });

  it('log_upload creates the log toml with examples when missing; external log plugins get --since/--until', async () => {
    const h = new LogUploadHandler(new LogPlugins());
    await h.start(ctx);
    await h.stop();
    assert.match(readFileSync(join(dir, 'plugins', 'tedge-log-plugin.toml'), 'utf8'), /type = "software-management"/);
    writeFileSync(join(dir, 'log-plugins', 'echoer'), '#!/bin/sh\ncase "$1" in list) echo x ;; get) echo "args: $*" ;; esac\n', { mode: 0o755 });
    chmodSync(join(dir, 'log-plugins', 'echoer'), 0o755);
    const o = await h.execute(fakeRun(ctx, 'log_upload', 'x1', { type: 'x::echoer', dateFrom: '1970-01-01T00:00:10Z', dateTo: '1970-01-01T00:00:20Z' }));
    assert.equal(o.status, 'successful', JSON.stringify(o));
    assert.equal(fts.stored.get('/te/v1/files/main/log_upload/x::echoer-x1')?.toString(), 'args: get x --since 10 --until 20\n');
  });

  it('republishes the capability when the toml changes', async () => {
    const h = new ConfigSnapshotHandler(plugins());
    await h.start(ctx);
    try {
      writeFileSync(join(dir, 'plugins', 'tedge-configuration-plugin.toml'), `files = [ { path = '/etc/hosts', type = 'hosts' } ]\n`);
      for (let i = 0; i < 50 && ctx.changes === 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(ctx.changes > 0, 'capabilityChanged called');
      assert.deepEqual(await h.capability(ctx), { types: ['hosts', 'tedge-configuration-plugin'] });
    } finally {
      await h.stop();
    }
  });

  it('a successful config_update lists the types again and tells both config handlers', async () => {
    writeFileSync(join(dir, 'config-plugins', 'dbplugin'), PLUGIN, { mode: 0o755 });
    writeFileSync(join(dir, 'config-plugins', 'state'), 'v1');
    fts.stored.set('/cfg/db', Buffer.from('v2'));
    const shared = plugins();
    const snapshot = new ConfigSnapshotHandler(shared);
    const update = new ConfigUpdateHandler(shared);
    await snapshot.start(ctx);
    await update.start(ctx);
    try {
      await snapshot.capability(ctx);
      const before = ctx.changes;
      assert.equal((await update.execute(fakeRun(ctx, 'config_update', 'r1', { type: 'db::dbplugin', tedgeUrl: `${fts.base}/cfg/db` }))).status, 'successful');
      // At least both handlers; the plugin's own state file in its directory may add a watch event.
      assert.ok(ctx.changes - before >= 2, 'config_snapshot and config_update republish');
    } finally {
      await snapshot.stop();
      await update.stop();
    }
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
});
