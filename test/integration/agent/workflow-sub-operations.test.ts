import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AgentUnderTest, cmd, json } from '../../helpers/agent-under-test';

/** Sub-operations, iterate and builtin delegation of the real tedge-agent process, driven only through MQTT. */
describe('workflows: sub-operations, iterate, builtin delegation (process, real mosquitto)', { timeout: 60_000 }, () => {
  let device: AgentUnderTest;

  beforeEach(async () => {
    device = await AgentUnderTest.start('workflow');
    const child = device.script('child.sh', 'if [ "$1" = bad ]; then echo "nope" >&2; exit 1; fi; printf \':::begin-tedge:::\\n{"result":"got-%s"}\\n:::end-tedge:::\\n\' "$1"');
    device.workflow(
      'child_op.toml',
      `operation = "child_op"
[init]
script = "${child} \${.payload.value}"
on_success = "successful"
`,
    );
  });

  afterEach(async () => {
    await device.close();
  });

  it('a sub-operation: input.* builds its init, output.* brings its result back, the parent clears it', async () => {
    device.workflow(
      'parent.toml',
      `operation = "parent"
[init]
action = "proceed"
on_success = "launch"
[launch]
operation = "child_op"
input.value = "\${.payload.value}"
input.fixed = 42
on_exec = "waiting"
[waiting]
action = "await-operation-completion"
output.childResult = "\${.payload.result}"
on_success = "successful"
on_error = { status = "failed", reason = "child failed" }
`,
    );
    await device.startAgent();
    const p = await device.probe(['te/device/main///cmd/+/+']);
    const ok = await device.runCommand(p, 'parent', 'p1', { status: 'init', value: 'x y' });
    assert.deepEqual(ok, { status: 'successful', value: 'x y', childResult: 'got-x y' });
    assert.deepEqual(device.statuses(p, 'parent', 'p1'), ['init', 'launch', 'waiting', 'successful']);
    const sub = cmd('child_op', 'sub:parent:p1');
    await p.waitFor(() => p.texts(sub).includes(''), 'the sub-command cleared by its parent');
    assert.deepEqual(json(p.texts(sub)[0]), { status: 'init', value: 'x y', fixed: 42 });
    assert.equal(json(p.texts(sub).find((t) => json(t)['status'] === 'successful'))['result'], 'got-x y');

    const bad = await device.runCommand(p, 'parent', 'p2', { status: 'init', value: 'bad' });
    assert.deepEqual([bad['status'], bad['reason']], ['failed', 'child failed']);
  });

  it('input_script: the JSON a script prints is the init of the sub-operation, input.* over it', async () => {
    const input = device.script('input.sh', 'printf \':::begin-tedge:::\\n{"value":"from-script-%s","extra":1}\\n:::end-tedge:::\\n\' "$1"');
    device.workflow(
      'scripted.toml',
      `operation = "scripted"
[init]
operation = "child_op"
input_script = "${input} \${.payload.seed}"
input.other = "\${.payload.seed}"
on_exec = "waiting"
[waiting]
action = "await-operation-completion"
output.childResult = "\${.payload.result}"
on_success = "successful"
`,
    );
    await device.startAgent();
    const p = await device.probe(['te/device/main///cmd/+/+']);
    const done = await device.runCommand(p, 'scripted', 's1', { status: 'init', seed: 'abc' });
    assert.equal(done['childResult'], 'got-from-script-abc', String(done['reason']));
    assert.deepEqual(json(p.texts(cmd('child_op', 'sub:scripted:s1'))[0]), { status: 'init', value: 'from-script-abc', extra: 1, other: 'abc' });
  });

  it('iterate over sub-operations (device_profile style), @skip items passed over', async () => {
    device.workflow(
      'profile.toml',
      `operation = "profile"
[init]
action = "proceed"
on_success = "next_operation"
[next_operation]
iterate = "\${.payload.operations}"
on_next = "apply_operation"
on_success = "successful"
on_error = "failed"
[apply_operation]
operation = "\${.payload.@next.item.operation}"
input = "\${.payload.@next.item.payload}"
on_exec = "awaiting_operation"
[awaiting_operation]
action = "await-operation-completion"
on_success = "next_operation"
on_error = { status = "failed", reason = "an operation of the profile failed" }
`,
    );
    await device.startAgent();
    const p = await device.probe(['te/device/main///cmd/+/+']);
    const operations = [
      { operation: 'child_op', payload: { value: 'one' } },
      { operation: 'child_op', '@skip': true, payload: { value: 'bad' } },
      { operation: 'child_op', payload: { value: 'three' } },
    ];
    const done = await device.runCommand(p, 'profile', 'dp1', { status: 'init', operations });
    assert.equal(done['status'], 'successful', String(done['reason']));
    const values = p.texts(cmd('child_op', 'sub:profile:dp1')).filter((t) => json(t)['status'] === 'init').map((t) => json(t)['value']);
    assert.deepEqual(values, ['one', 'three']);
    assert.deepEqual(device.statuses(p, 'profile', 'dp1'), ['init', 'next_operation', 'apply_operation', 'awaiting_operation', 'next_operation', 'apply_operation', 'awaiting_operation', 'next_operation', 'successful']);
  });

  it("a user's software_update.toml delegating to builtin:software_update (thin-edge's §4.1 example) replaces the builtin", async () => {
    const installed = device.path('installed.txt');
    device.script('../config/sm-plugins/fake', `case "$1" in list) printf 'base\\t1.0\\n';; prepare|finalize|remove) exit 0;; update-list) exit 1;; install) echo "$2 $4" >> ${installed};; esac`);
    const mark = device.script('mark.sh', `echo "$1" > ${device.path('marker.txt')}`);
    device.workflow(
      'software_update.toml',
      `operation = "software_update"
init = { script = "${mark} \${.payload.updateList[0].modules[0].name}", on_success = "scheduled" }
scheduled = { operation = "builtin:software_update", on_exec = "executing" }
executing = { action = "await-operation-completion", on_success = "successful" }
successful = { action = "cleanup" }
failed = { action = "cleanup" }
`,
    );
    await device.startAgent();
    const p = await device.probe(['te/device/main///cmd/software_update', 'te/device/main///cmd/software_update/+']);
    await p.waitForText('te/device/main///cmd/software_update', (t) => JSON.stringify(json(t)['types']) === '["fake"]');
    const updateList = [{ type: 'fake', modules: [{ name: 'nodered', version: '2.0', action: 'install' }] }];
    const done = await device.runCommand(p, 'software_update', 'su1', { status: 'init', updateList });
    assert.equal(done['status'], 'successful', String(done['reason']));
    assert.deepEqual(device.statuses(p, 'software_update', 'su1'), ['init', 'scheduled', 'executing', 'successful']);
    assert.equal(readFileSync(device.path('marker.txt'), 'utf8'), 'nodered\n');
    assert.match(readFileSync(installed, 'utf8'), /^nodered /);
  });
});
