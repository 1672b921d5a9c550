import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { BusProbe } from '../../helpers/bus-probe';
import { BIN_DIR } from '../../helpers/daemon';
import { AgentUnderTest, json } from '../../helpers/agent-under-test';

/**
 * device_profile through the workflow the agent ships (no file in `<config>/operations/`), on the real
 * tedge-agent process and a real mosquitto, driven only over MQTT: its entries run as software_update /
 * config_update sub-operations of the agent's builtins (a script sm-plugin, a config entry), `@skip`
 * entries are passed over, the applied profile ends retained on twin/device_profile.
 */
describe('tedge-agent device_profile (process, real mosquitto)', { timeout: 60_000 }, () => {
  let dev: AgentUnderTest;
  let p: BusProbe;
  let files: Server;
  let filesUrl = '';

  before(async () => {
    dev = await AgentUnderTest.start('device-profile');
    // The shipped twin_update state runs `tedge mqtt pub`, on PATH on a device: here, the built CLI.
    dev.script('tedge', `exec "${process.execPath}" "${BIN_DIR}/tedge.js" "$@"`);
    dev.env['PATH'] = `${dev.path('bin')}:${process.env['PATH'] ?? ''}`;
    // A plugin without update-list: the agent installs module by module; `broken` cannot be installed.
    writeFileSync(
      dev.path('config', 'sm-plugins', 'fake'),
      `#!/bin/sh\nSTATE="${dev.path('fake.state')}"\ncase "$1" in\n  list) cat "$STATE" 2>/dev/null ;;\n  prepare|finalize|remove) ;;\n` +
        `  install) if [ "$2" = broken ]; then echo "broken: no installation candidate" >&2; exit 2; fi; printf '%s\\t%s\\n' "$2" "$4" >> "$STATE" ;;\n  *) exit 1 ;;\nesac\n`,
      { mode: 0o755 },
    );
    mkdirSync(dev.path('config', 'plugins'), { recursive: true });
    mkdirSync(dev.path('etc'), { recursive: true });
    writeFileSync(dev.path('etc', 'app.conf'), 'v1\n');
    writeFileSync(dev.path('config', 'plugins', 'tedge-configuration-plugin.toml'), `files = [ { path = '${dev.path('etc', 'app.conf')}', type = 'app' } ]\n`);
    files = createServer((req, res) => {
      res.writeHead(200).end(`served ${req.url ?? ''}\n`);
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    p = await dev.probe(['te/device/main///cmd/#', 'te/device/main///twin/#']);
    await dev.startAgent();
  });

  after(async () => {
    await dev.close();
    await new Promise((r) => files.close(r));
  });

  const software = (name: string) => ({ operation: 'software_update', payload: { updateList: [{ type: 'fake', modules: [{ name, version: '1.0', action: 'install' }] }] } });
  const config = (path: string) => ({ operation: 'config_update', payload: { type: 'app', remoteUrl: `${filesUrl}${path}` } });
  /** The sub-operation topics of one profile command, in the order they were first seen. */
  const subs = (id: string): string[] => [...new Set(p.received.map((m) => m.topic).filter((t) => t.endsWith(`/sub:device_profile:${id}`)))];

  it('offers the capability {} without any workflow file', async () => {
    assert.equal(existsSync(dev.path('config', 'operations', 'device_profile.toml')), false);
    assert.deepEqual(json(await p.waitForText('te/device/main///cmd/device_profile')), {});
  });

  it('applies software and config, passes over a @skip entry, publishes the twin', async () => {
    const done = await dev.runCommand(p, 'device_profile', 'dp-1', {
      status: 'init',
      name: 'prod',
      version: 'v2',
      operations: [{ operation: 'firmware_update', '@skip': true, payload: { name: 'fw', version: '9', remoteUrl: `${filesUrl}/fw` } }, software('app'), config('/app.conf')],
    });
    assert.equal(done['status'], 'successful', JSON.stringify(done));
    assert.deepEqual(json(await p.waitForText('te/device/main///twin/device_profile')), { name: 'prod', version: 'v2' });
    assert.match(readFileSync(dev.path('fake.state'), 'utf8'), /^app\t1\.0$/m);
    assert.equal(readFileSync(dev.path('etc', 'app.conf'), 'utf8'), 'served /app.conf\n');
    // The skipped firmware entry never became a command.
    assert.deepEqual(subs('dp-1'), ['te/device/main///cmd/software_update/sub:device_profile:dp-1', 'te/device/main///cmd/config_update/sub:device_profile:dp-1']);
  });

  it('fails with the reason of the sub-operation that failed; later entries are not run, the twin is kept', async () => {
    const done = await dev.runCommand(p, 'device_profile', 'dp-2', { status: 'init', name: 'bad', version: 'v3', operations: [software('broken'), config('/other.conf')] });
    assert.equal(done['status'], 'failed');
    assert.match(String(done['reason']), /broken/);
    assert.equal(readFileSync(dev.path('etc', 'app.conf'), 'utf8'), 'served /app.conf\n');
    assert.deepEqual(subs('dp-2'), ['te/device/main///cmd/software_update/sub:device_profile:dp-2']);
    assert.deepEqual(json(p.texts('te/device/main///twin/device_profile').at(-1)), { name: 'prod', version: 'v2' });
  });

  it("a user's device_profile.toml replaces the shipped workflow; once removed the shipped one serves again", async () => {
    const marker = dev.path('user-workflow.ran');
    dev.script('mine', `touch "${marker}"`);
    const file = dev.workflow(
      'device_profile.toml',
      `operation = "device_profile"\n[init]\naction = "proceed"\non_success = "executing"\n[executing]\nscript = "${dev.path('bin', 'mine')}"\non_success = "successful"\n[successful]\naction = "cleanup"\n[failed]\naction = "cleanup"\n`,
    );
    // The reload is asynchronous: a command run until the user's workflow is the one that ran.
    let n = 0;
    for (; !existsSync(marker) && n < 20; n++) {
      await dev.runCommand(p, 'device_profile', `mine-${n}`, { status: 'init', name: 'x', version: '1', operations: [] });
    }
    assert.equal(existsSync(marker), true, 'the user workflow never ran');
    rmSync(file);
    rmSync(marker);
    // Back to the shipped one: an empty profile goes straight to the twin.
    let twin: Record<string, unknown> = {};
    for (let i = 0; i < 20 && twin['name'] !== 'again'; i++) {
      await dev.runCommand(p, 'device_profile', `again-${i}`, { status: 'init', name: 'again', version: String(i), operations: [] });
      await new Promise((r) => setTimeout(r, 100));
      twin = json(p.texts('te/device/main///twin/device_profile').at(-1));
    }
    assert.equal(twin['name'], 'again');
  });
});
