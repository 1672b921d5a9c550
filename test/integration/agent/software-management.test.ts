import assert from 'node:assert/strict';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AgentUnderTest, cmd, json } from '../../helpers/agent-under-test';
import type { Daemon } from '../../helpers/daemon';

/**
 * software_list and software_update of the real tedge-agent process with script sm-plugins, driven only
 * through MQTT as a cloud mapper would. The plugins are small package managers keeping their "installed"
 * modules in a TSV file and recording every call, so a test can tell update-list from the per-module fallback.
 */

const LIST = 'software_list';
const UPDATE = 'software_update';
const UPDATE_CAPABILITY = 'te/device/main///cmd/software_update';
const LIST_CAPABILITY = 'te/device/main///cmd/software_list';

type Json = Record<string, unknown>;

/**
 * A plugin script: `list` prints $STATE; install/remove edit it; update-list applies stdin lines unless
 * UPDATE_LIST=unsupported (exit 1: the agent falls back). Installing a module named "broken" fails (exit 2),
 * HANG_ON=<command> sleeps in that command (writing its pid), FILE_COPY copies an --file/path argument.
 */
function pluginScript(dir: string, opts: { updateList: 'supported' | 'unsupported'; hangOn?: string }): string {
  return `#!/bin/sh
STATE="${dir}/$(basename "$0").state"
CALLS="${dir}/$(basename "$0").calls"
touch "$STATE"
echo "$*" >> "$CALLS"
if [ "$1" = "${opts.hangOn ?? 'never'}" ]; then echo $$ > "${dir}/hang.pid"; exec sleep 60; fi
apply() { # action name version file
  if [ "$1" = install ] && [ "$2" = broken ]; then echo "broken: no installation candidate" >&2; return 2; fi
  grep -v "^$2	" "$STATE" > "$STATE.new"; mv "$STATE.new" "$STATE"
  if [ "$1" = install ]; then printf '%s\\t%s\\n' "$2" "$3" >> "$STATE"; fi
  if [ -n "$4" ]; then cp "$4" "${dir}/$2.received"; fi
  return 0
}
case "$1" in
  list) cat "$STATE" ;;
  prepare|finalize) ;;
  update-list)
    ${opts.updateList === 'unsupported' ? 'exit 1' : ''}
    rc=0
    while IFS='	' read -r action name version file; do
      echo "stdin $action $name $version $file" >> "$CALLS"
      apply "$action" "$name" "$version" "$file" || rc=2
    done
    exit $rc ;;
  install|remove)
    action=$1 name=$2 version= file=; shift 2
    while [ $# -gt 0 ]; do case "$1" in --module-version) version=$2; shift 2 ;; --file) file=$2; shift 2 ;; *) exit 1 ;; esac; done
    apply "$action" "$name" "$version" "$file" ;;
  *) exit 1 ;;
esac
`;
}

describe('tedge-agent software management (process, real mosquitto)', { timeout: 180_000 }, () => {
  let device: AgentUnderTest;
  const servers: Server[] = [];

  const startAgent = (env: Record<string, string> = {}): Promise<Daemon> => device.startAgent({ env });
  const plugin = (name: string): string => device.path('config', 'sm-plugins', name);

  function addPlugin(name: string, opts: { updateList: 'supported' | 'unsupported'; hangOn?: string }, installed = ''): void {
    device.executable(plugin(name), pluginScript(device.dir, opts));
    writeFileSync(device.path(`${name}.state`), installed);
  }

  const calls = (name: string): string[] => (existsSync(device.path(`${name}.calls`)) ? readFileSync(device.path(`${name}.calls`), 'utf8').trimEnd().split('\n').map((l) => l.trimEnd()) : []);

  /** Publishes a command retained, as the mapper does, and returns its terminal state. */
  async function command(op: string, id: string, payload: Json): Promise<Json> {
    return device.runCommand(await device.probe([cmd(op, id)]), op, id, { status: 'init', ...payload }, 20_000);
  }

  beforeEach(async () => {
    device = await AgentUnderTest.start('agent-sm');
  });

  afterEach(async () => {
    // A plugin left hanging by a killed agent.
    const pid = existsSync(device.path('hang.pid')) ? Number(readFileSync(device.path('hang.pid'), 'utf8')) : 0;
    await device.close();
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });

  it('publishes the plugin types, republishes them when sm-plugins changes, reports a broken plugin', async () => {
    addPlugin('alpha', { updateList: 'supported' });
    addPlugin('beta', { updateList: 'unsupported' });
    writeFileSync(plugin('notes.txt'), 'not executable');
    await startAgent();
    const late = await device.probe([UPDATE_CAPABILITY, LIST_CAPABILITY, 'te/errors']);
    await late.waitFor((r) => r.some((m) => m.topic === UPDATE_CAPABILITY) && r.some((m) => m.topic === LIST_CAPABILITY), 'both capabilities');
    assert.deepEqual(json(late.texts(UPDATE_CAPABILITY)[0]), { types: ['alpha', 'beta'] });
    assert.deepEqual(json(late.texts(LIST_CAPABILITY)[0]), {});
    assert.ok(late.received.filter((m) => m.topic === UPDATE_CAPABILITY).every((m) => m.retain));

    addPlugin('gamma', { updateList: 'supported' });
    await late.waitForText(UPDATE_CAPABILITY, (t) => JSON.stringify(json(t)['types']) === '["alpha","beta","gamma"]');

    // A plugin whose `list` fails is not a plugin: left out, and said so on te/errors.
    device.executable(plugin('delta'), '#!/bin/sh\necho "delta: database locked" >&2\nexit 2\n');
    unlinkSync(plugin('gamma'));
    await late.waitForText(UPDATE_CAPABILITY, (t) => JSON.stringify(json(t)['types']) === '["alpha","beta"]');
    await late.waitForText('te/errors', (t) => /delta/.test(t) && /database locked/.test(t));
  });

  it('software_list: every plugin list, filtered by include/exclude and capped by max_packages', async () => {
    addPlugin('alpha', { updateList: 'supported' }, 'nodered\t1.0.0\nlibssl\t3.0\ncollectd\t5.12\n');
    addPlugin('beta', { updateList: 'unsupported' }, 'app\nlibtedge\t2\n');
    await startAgent({ TEDGE_SOFTWARE_PLUGIN_EXCLUDE: '^lib', TEDGE_SOFTWARE_PLUGIN_INCLUDE: '^libtedge$' });
    const done = await command(LIST, 'l1', { 'c8y-id': 'x' });
    assert.deepEqual(done, {
      status: 'successful',
      'c8y-id': 'x',
      currentSoftwareList: [
        { type: 'alpha', modules: [{ name: 'nodered', version: '1.0.0' }, { name: 'collectd', version: '5.12' }] },
        { type: 'beta', modules: [{ name: 'app' }, { name: 'libtedge', version: '2' }] },
      ],
    });
    assert.match(readFileSync(device.path('logs', 'agent', 'workflow-software_list-l1.log'), 'utf8'), /alpha list/);

    await device.agent?.stop();
    await startAgent({ TEDGE_SOFTWARE_PLUGIN_MAX_PACKAGES: '1' });
    const capped = await command(LIST, 'l2', {});
    assert.deepEqual(capped['currentSoftwareList'], [
      { type: 'alpha', modules: [{ name: 'nodered', version: '1.0.0' }] },
      { type: 'beta', modules: [{ name: 'app' }] },
    ]);
  });

  it('software_update: install and remove through update-list and through the per-module fallback', async () => {
    addPlugin('alpha', { updateList: 'supported' }, 'old\t1\n');
    addPlugin('beta', { updateList: 'unsupported' }, 'gone\t2\n');
    await startAgent({ TEDGE_SOFTWARE_PLUGIN_DEFAULT: 'alpha' });
    const done = await command(UPDATE, 'u1', {
      updateList: [
        { type: 'alpha', modules: [{ name: 'nodered', version: '1.0.0', action: 'install' }, { name: 'old', action: 'remove' }] },
        { type: 'beta', modules: [{ name: 'tool', version: '3', action: 'install' }, { name: 'gone', version: '2', action: 'remove' }] },
        { modules: [{ name: 'by-default', version: '9', action: 'install' }] },
      ],
    });
    assert.equal(done['status'], 'successful', JSON.stringify(done));
    assert.deepEqual(calls('alpha').slice(-6), ['prepare', 'update-list', 'stdin install nodered 1.0.0', 'stdin remove old', 'stdin install by-default 9', 'finalize']);
    assert.deepEqual(calls('beta').slice(-5), ['prepare', 'update-list', 'install tool --module-version 3', 'remove gone --module-version 2', 'finalize']);

    const listed = await command(LIST, 'after', {});
    assert.deepEqual(listed['currentSoftwareList'], [
      { type: 'alpha', modules: [{ name: 'nodered', version: '1.0.0' }, { name: 'by-default', version: '9' }] },
      { type: 'beta', modules: [{ name: 'tool', version: '3' }] },
    ]);
  });

  it('software_update: a failing module and an unknown type are reported in failures, the rest applied', async () => {
    addPlugin('alpha', { updateList: 'supported' });
    addPlugin('beta', { updateList: 'unsupported' });
    await startAgent();
    const done = await command(UPDATE, 'u2', {
      updateList: [
        { type: 'beta', modules: [{ name: 'fine', action: 'install' }, { name: 'broken', version: '1.2', action: 'install' }] },
        { type: 'snap', modules: [{ name: 'x', action: 'remove' }] },
      ],
    });
    assert.equal(done['status'], 'failed');
    assert.match(String(done['reason']), /^2 errors: .*Failed to install broken 1\.2: exit status 2 \(failure\): broken: no installation candidate.*Unknown software type: "snap"/);
    assert.deepEqual(done['failures'], [
      { type: 'beta', modules: [{ name: 'broken', version: '1.2', action: 'install', reason: 'Failed to install broken 1.2: exit status 2 (failure): broken: no installation candidate' }] },
      { type: 'snap', modules: [{ name: 'x', action: 'remove', reason: 'Unknown software type: "snap"' }] },
    ]);
    assert.match(readFileSync(device.path('beta.state'), 'utf8'), /^fine\t$/m);

    const malformed = await command(UPDATE, 'u3', { updateList: [{ type: 'beta', modules: [{ name: 'a\nremove\tb', action: 'install' }] }] });
    assert.equal(malformed['status'], 'failed');
    assert.match(String(malformed['reason']), /^Invalid software_update request: .*control characters/);
  });

  it('software_update: a plugin that hangs is killed after software.plugin.timeout and the command fails', async () => {
    addPlugin('slow', { updateList: 'supported', hangOn: 'update-list' });
    await startAgent({ TEDGE_SOFTWARE_PLUGIN_TIMEOUT: '1s' });
    const started = Date.now();
    const done = await command(UPDATE, 'u4', { updateList: [{ type: 'slow', modules: [{ name: 'a', action: 'install' }] }] });
    assert.equal(done['status'], 'failed');
    assert.match(String(done['reason']), /Failed to execute updates for slow: timed out after 1s and was killed/);
    assert.ok(Date.now() - started < 15_000);
    const pid = Number(readFileSync(device.path('hang.pid'), 'utf8'));
    assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the hanging plugin is gone');
    assert.equal(calls('slow').at(-1), 'finalize', 'finalize still runs after the timeout');
  });

  it('software_update: a module URL is downloaded first and passed to the plugin with --file', async () => {
    const body = 'the package bytes\n'.repeat(1000);
    const server = createServer((req, res) => {
      if (req.url === '/pkg.deb') res.end(body);
      else res.writeHead(404).end('no such file');
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    addPlugin('beta', { updateList: 'unsupported' });
    await startAgent();

    const done = await command(UPDATE, 'u5', { updateList: [{ type: 'beta', modules: [{ name: 'pkg', version: '1.0', url: `${base}/pkg.deb`, action: 'install' }] }] });
    assert.equal(done['status'], 'successful', JSON.stringify(done));
    const file = device.path('tmp', 'pkg_1.0');
    assert.ok(calls('beta').includes(`install pkg --module-version 1.0 --file ${file}`), calls('beta').join('\n'));
    assert.equal(readFileSync(device.path('pkg.received'), 'utf8'), body);
    assert.equal(existsSync(file), false, 'the download is removed after the update');

    const missing = await command(UPDATE, 'u6', { updateList: [{ type: 'beta', modules: [{ name: 'nope', url: `${base}/nope.deb`, action: 'install' }] }] });
    assert.equal(missing['status'], 'failed');
    const failures = missing['failures'] as Array<{ modules: Array<{ name: string; reason: string }> }>;
    assert.equal(failures[0]?.modules[0]?.name, 'nope');
    assert.match(failures[0]?.modules[0]?.reason ?? '', /Failed to download .*nope\.deb.*404/);
  });

  it('runs plugins as `sudo -n <plugin> …` when sudo.enable=true and sudo is on PATH', async () => {
    addPlugin('alpha', { updateList: 'supported' }, 'a\t1\n');
    // A stand-in for sudo: records its arguments, drops -n and runs the rest.
    device.script('sudo', `echo "$*" >> ${device.path('sudo.calls')}\n[ "$1" = -n ] && shift\nexec "$@"`);
    await startAgent({ TEDGE_SUDO_ENABLE: 'true', PATH: `${device.path('bin')}:${process.env['PATH'] ?? ''}` });
    const done = await command(LIST, 's1', {});
    assert.deepEqual(done['currentSoftwareList'], [{ type: 'alpha', modules: [{ name: 'a', version: '1' }] }]);
    assert.ok(readFileSync(device.path('sudo.calls'), 'utf8').split('\n').includes(`-n ${plugin('alpha')} list`));
  });

  it('software_update: an agent killed with SIGKILL mid-update leaves a terminal state after the next start', async () => {
    addPlugin('slow', { updateList: 'supported', hangOn: 'update-list' });
    const first = await startAgent();
    const cloud = await device.probe([cmd(UPDATE, 'u7')]);
    await cloud.publish(cmd(UPDATE, 'u7'), JSON.stringify({ status: 'init', updateList: [{ type: 'slow', modules: [{ name: 'a', action: 'install' }] }] }), { retain: true });
    await cloud.waitForText(cmd(UPDATE, 'u7'), (t) => json(t)['status'] === 'executing');
    for (let i = 0; i < 100 && !existsSync(device.path('hang.pid')); i++) await new Promise((r) => setTimeout(r, 50));
    await first.stop('SIGKILL');

    await startAgent();
    const done = await device.awaitCommand(cloud, UPDATE, 'u7');
    assert.equal(done['status'], 'failed');
    assert.equal(done['reason'], 'Software Update command cancelled due to unexpected agent restart');
    assert.deepEqual(done['updateList'], [{ type: 'slow', modules: [{ name: 'a', action: 'install' }] }], 'the request is kept');
  });
});
