import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AgentUnderTest, cmd, json } from '../../helpers/agent-under-test';

/** thin-edge's newer workflow actions on the real agent and mosquitto: restart-agent, upload, builtin:<op>:<step>. */
describe('workflow actions restart-agent, upload, builtin steps (process, real mosquitto)', { timeout: 60_000 }, () => {
  let device: AgentUnderTest;

  beforeEach(async () => {
    device = await AgentUnderTest.start('workflow');
  });

  afterEach(async () => {
    await device.close();
  });

  it('restart-agent: on_exec persisted, the agent exits asking to be started again (75), the next process goes on from on_exec', async () => {
    const marker = device.path('tmp', 'ran-in');
    const record = device.script('record.sh', `echo "$1" >> ${JSON.stringify(marker)}`);
    device.workflow(
      'restarter.toml',
      `operation = "restarter"
[init]
action = "proceed"
on_success = "restart"
[restart]
action = "restart-agent"
on_exec = "back"
[back]
script = "${record} back"
on_success = "successful"
`,
    );
    const first = await device.startAgent();
    const p = await device.probe(['te/device/main///cmd/restarter/+']);
    await p.publish(cmd('restarter', 'ra1'), '{"status":"init"}', { retain: true });
    assert.equal(await first.waitForExit(), 75, first.output);
    assert.equal(json(p.texts(cmd('restarter', 'ra1')).at(-1))['status'], 'back');
    await device.startAgent();
    await p.waitForText(cmd('restarter', 'ra1'), (t) => json(t)['status'] === 'successful', 15_000);
    // The script of `back` ran once, in the new process only.
    assert.equal(readFileSync(marker, 'utf8'), 'back\n');
  });

  it('upload: the file at input.path is PUT to tedgeUrl (the file transfer service); its path is kept on the payload', async () => {
    const file = device.path('tmp', 'report.txt');
    writeFileSync(file, 'uploaded by a workflow\n');
    device.workflow(
      'sender.toml',
      `operation = "sender"
[init]
action = "upload"
input.path = "\${.payload.file}"
on_success = "successful"
`,
    );
    await device.startAgent();
    const p = await device.probe(['te/device/main///cmd/sender/+']);
    const url = `http://127.0.0.1:${device.env['TEDGE_HTTP_BIND_PORT'] ?? ''}/te/v1/files/main/sender/up1`;
    const done = await device.runCommand(p, 'sender', 'up1', { status: 'init', tedgeUrl: url, file });
    assert.equal(done['status'], 'successful', String(done['reason']));
    assert.equal(done['path'], file);
    assert.equal(await (await fetch(url)).text(), 'uploaded by a workflow\n');
    // Nothing to upload: failed with thin-edge's reason.
    const missing = await device.runCommand(p, 'sender', 'up2', { status: 'init', tedgeUrl: url });
    assert.equal(missing['status'], 'failed');
    assert.equal(missing['reason'], "builtin 'upload' action failed with: No valid file path found in input.path or path");
  });

  it("config_update and config_snapshot step by step (thin-edge's builtin:config_update:<prepare|set|verify>, builtin:config_snapshot:get, upload)", async () => {
    const conf = device.path('tmp', 'app.conf');
    writeFileSync(conf, 'speed = 1\n');
    mkdirSync(device.path('config', 'plugins'), { recursive: true });
    writeFileSync(device.path('config', 'plugins', 'tedge-configuration-plugin.toml'), `files = [{ type = "app", path = "${conf}" }]\n`);
    const seen = device.path('tmp', 'seen');
    const check = device.script('check.sh', `cat "$1" > ${JSON.stringify(seen)}`);
    device.workflow(
      'config_update.toml',
      `operation = "config_update"
on_error = "failed"
[init]
action = "download"
on_success = "prepare"
[prepare]
action = "builtin:config_update:prepare"
input.setFrom = "\${.payload.downloadedPath}"
on_success = "inspect"
[inspect]
script = "${check} \${.payload.setFrom}"
on_success = "set"
[set]
action = "builtin:config_update:set"
on_success = "verify"
on_error = "rollback"
[verify]
action = "builtin:config_update:verify"
on_success = "successful"
on_error = "rollback"
[rollback]
action = "builtin:config_update:rollback"
on_success = "failed"
`,
    );
    device.workflow(
      'config_snapshot.toml',
      `operation = "config_snapshot"
[init]
action = "builtin:config_snapshot:get"
on_success = "upload"
[upload]
action = "upload"
input.url = "\${.payload.tedgeUrl}"
on_success = "successful"
`,
    );
    await device.startAgent();
    const base = `http://127.0.0.1:${device.env['TEDGE_HTTP_BIND_PORT'] ?? ''}/te/v1/files/main`;
    assert.equal((await fetch(`${base}/new-app-conf`, { method: 'PUT', body: 'speed = 7\n' })).ok, true);
    const p = await device.probe(['te/device/main///cmd/config_update/+', 'te/device/main///cmd/config_snapshot/+']);
    const updated = await device.runCommand(p, 'config_update', 'cu1', { status: 'init', type: 'app', tedgeUrl: `${base}/new-app-conf` });
    assert.equal(updated['status'], 'successful', String(updated['reason']));
    assert.equal(readFileSync(conf, 'utf8'), 'speed = 7\n');
    assert.equal(readFileSync(seen, 'utf8'), 'speed = 7\n', 'the script state between the steps saw the prepared file');
    assert.equal(updated['path'], conf);
    assert.deepEqual(device.statuses(p, 'config_update', 'cu1'), ['init', 'prepare', 'inspect', 'set', 'verify', 'successful']);

    const snap = await device.runCommand(p, 'config_snapshot', 'cs1', { status: 'init', type: 'app', tedgeUrl: `${base}/snap-app` });
    assert.equal(snap['status'], 'successful', String(snap['reason']));
    assert.equal(await (await fetch(`${base}/snap-app`)).text(), 'speed = 7\n');
    const unknown = await device.runCommand(p, 'config_update', 'cu2', { status: 'init', type: 'nope', tedgeUrl: `${base}/new-app-conf` });
    assert.equal(unknown['status'], 'failed');
    assert.equal(unknown['reason'], "builtin 'builtin:config_update:prepare' action failed with: unknown configuration type 'nope'");
  });

  it("builtin:firmware_update:<step> of an agent without firmware.backend: failed with the step's reason", async () => {
    device.workflow(
      'fw.toml',
      `operation = "fw_check"
[init]
action = "builtin:firmware_update:download"
on_success = "successful"
on_error = "failed"
`,
    );
    await device.startAgent();
    const p = await device.probe(['te/device/main///cmd/fw_check/+']);
    const done = await device.runCommand(p, 'fw_check', 'b1', { status: 'init', name: 'os', version: '2', url: 'http://127.0.0.1:1/x' });
    assert.equal(done['status'], 'failed');
    assert.equal(done['reason'], "builtin 'builtin:firmware_update:download' action failed with: no firmware backend is configured (firmware.backend)");
  });
});
