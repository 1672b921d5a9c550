import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AgentUnderTest, cmd, json } from '../../helpers/agent-under-test';

/** User workflows of the real tedge-agent process, driven only through MQTT: scripts, exit codes, templates. */
describe('workflows: scripts, exit codes, templates (process, real mosquitto)', { timeout: 60_000 }, () => {
  let device: AgentUnderTest;

  beforeEach(async () => {
    device = await AgentUnderTest.start('workflow');
  });

  afterEach(async () => {
    await device.close();
  });

  it('a multi-state workflow: script output merged, exit codes mapped, on_stdout, capability {}', async () => {
    const plan = device.script('plan.sh', 'printf \':::begin-tedge:::\\n{"planned":"%s"}\\n:::end-tedge:::\\n\' "$1"');
    const work = device.script('work.sh', 'case "$1" in ok) exit 0;; busy) exit 3;; bad) exit 5;; *) exit 9;; esac');
    const check = device.script('check.sh', 'echo noise; printf \':::begin-tedge:::\\n{"status":"successful","checked":true}\\n:::end-tedge:::\\n\'');
    device.workflow(
      'demo.toml',
      `operation = "demo"
[init]
script = "${plan} \${.payload.mode}"
on_success = "scheduled"
[scheduled]
action = "proceed"
on_success = "executing"
[executing]
script = "${work} \${.payload.mode}"
on_exit.0 = "check"
on_exit.3 = { status = "retry", reason = "busy" }
on_exit.4-6 = { status = "failed", reason = "bad mode" }
on_exit._ = "failed"
[retry]
script = "${work} ok"
on_success = "check"
[check]
script = "${check}"
on_stdout = ["successful", "failed"]
`,
    );
    await device.startAgent();
    const p = await device.probe(['te/device/main///cmd/demo', 'te/device/main///cmd/demo/+']);
    await p.waitForText('te/device/main///cmd/demo', (t) => t === '{}');

    const ok = await device.runCommand(p, 'demo', 'ok-1', { status: 'init', mode: 'ok', c8y: { id: 7 } });
    assert.deepEqual(ok, { status: 'successful', mode: 'ok', c8y: { id: 7 }, planned: 'ok', checked: true });
    assert.deepEqual(device.statuses(p, 'demo', 'ok-1'), ['init', 'scheduled', 'executing', 'check', 'successful']);
    const late = await device.probe([cmd('demo', 'ok-1')]);
    await late.waitForText(cmd('demo', 'ok-1'), (t) => json(t)['status'] === 'successful');
    assert.equal(late.received[0]?.retain, true, 'the terminal state is retained');

    await device.runCommand(p, 'demo', 'busy-1', { status: 'init', mode: 'busy' });
    assert.deepEqual(device.statuses(p, 'demo', 'busy-1'), ['init', 'scheduled', 'executing', 'retry', 'check', 'successful']);
    assert.equal(json(p.texts(cmd('demo', 'busy-1')).find((t) => json(t)['status'] === 'retry'))['reason'], 'busy');

    const bad = await device.runCommand(p, 'demo', 'bad-1', { status: 'init', mode: 'bad' });
    assert.deepEqual([bad['status'], bad['reason']], ['failed', 'bad mode']);

    const other = await device.runCommand(p, 'demo', 'other-1', { status: 'init', mode: 'other' });
    assert.deepEqual([other['status'], other['reason']], ['failed', `${work} returned exit code 9`]);

    const log = readFileSync(device.path('logs', 'agent', 'workflow-demo-ok-1.log'), 'utf8');
    assert.match(log, /demo @ executing → check/);
    assert.match(log, /stdout: noise/);
  });

  it('a payload cannot inject a command: each template value is one argv item, no shell', async () => {
    const record = device.script('record.sh', 'out="$1"; shift; echo "$#" > "$out"; for a in "$@"; do printf "[%s]\\n" "$a" >> "$out"; done');
    device.workflow(
      'inject.toml',
      `operation = "inject"
[init]
script = "${record} ${device.path('args.txt')} \${.payload.text} '\${.payload.text}' end"
on_success = "successful"
`,
    );
    await device.startAgent();
    const p = await device.probe(['te/device/main///cmd/inject/+']);
    const pwned = device.path('pwned');
    const text = `x; touch ${pwned} $(touch ${pwned}2) \`touch ${pwned}3\` ' " && touch ${pwned}4 | sh -c "touch ${pwned}5" \${.payload.other}`;
    const done = await device.runCommand(p, 'inject', 'i1', { status: 'init', text, other: 'substituted-twice' });
    assert.equal(done['status'], 'successful', String(done['reason']));
    assert.equal(readFileSync(device.path('args.txt'), 'utf8'), `3\n[${text}]\n[${text}]\n[end]\n`);
    for (const suffix of ['', '2', '3', '4', '5']) assert.equal(existsSync(`${pwned}${suffix}`), false, `pwned${suffix}`);
  });

  it('download: the URL of input.url (or tedgeUrl/remoteUrl/url) fetched to downloadedPath; a failed download goes to on_error', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/fw.bin') res.writeHead(200, { 'content-length': '14' }).end('firmware-bytes');
      else res.writeHead(404).end('not found');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const check = device.script('check.sh', '[ "$(cat "$1")" = firmware-bytes ]');
      device.workflow(
        'fetch.toml',
        `operation = "fetch"
[init]
action = "download"
input.url = "\${.payload.location}"
on_success = "check"
on_error = { status = "failed", reason = "download failed" }
[check]
script = "${check} \${.payload.downloadedPath}"
on_success = "successful"
`,
      );
      await device.startAgent();
      const p = await device.probe(['te/device/main///cmd/fetch/+']);
      const ok = await device.runCommand(p, 'fetch', 'd1', { status: 'init', location: `http://127.0.0.1:${port}/fw.bin` });
      assert.equal(ok['status'], 'successful', String(ok['reason']));
      assert.equal(readFileSync(String(ok['downloadedPath']), 'utf8'), 'firmware-bytes');
      const missing = await device.runCommand(p, 'fetch', 'd2', { status: 'init', location: `http://127.0.0.1:${port}/nothing` });
      // As thin-edge: the action's own reason over the default of on_error.
      assert.equal(missing['status'], 'failed');
      assert.match(String(missing['reason']), /^builtin 'download' action failed with: .*404/);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('timeout_second: a script running too long is killed and goes to on_timeout', async () => {
    device.workflow(
      'slow.toml',
      `operation = "slow"
[init]
script = "sleep 30"
timeout_second = 1
on_timeout = { status = "failed", reason = "too slow" }
on_success = "successful"
`,
    );
    await device.startAgent();
    const p = await device.probe(['te/device/main///cmd/slow/+']);
    const started = Date.now();
    const done = await device.runCommand(p, 'slow', 's1', { status: 'init' });
    assert.deepEqual([done['status'], done['reason']], ['failed', 'too slow']);
    assert.ok(Date.now() - started < 10_000);
  });
});
