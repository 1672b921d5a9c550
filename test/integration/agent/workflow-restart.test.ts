import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AgentUnderTest, cmd, json, until } from '../../helpers/agent-under-test';

/** Workflows across agent restarts (kill -9 and a restart the workflow itself asks for), through MQTT only. */
describe('workflows across agent restarts (process, real mosquitto)', { timeout: 60_000 }, () => {
  let device: AgentUnderTest;

  beforeEach(async () => {
    device = await AgentUnderTest.start('workflow');
  });

  afterEach(async () => {
    await device.close();
  });

  it('kill -9 in a script state: after the next start the state runs again and the command ends', async () => {
    const runs = device.path('runs.txt');
    const go = device.path('go');
    const slow = device.script('slow.sh', `echo run >> ${runs}; if [ -f ${go} ]; then exit 0; fi; exec sleep 30`);
    device.workflow(
      'long.toml',
      `operation = "long"
[init]
action = "proceed"
on_success = "work"
[work]
script = "${slow}"
on_success = "done"
[done]
action = "proceed"
on_success = "successful"
`,
    );
    const first = await device.startAgent();
    const p = await device.probe(['te/device/main///cmd/long/+']);
    await p.publish(cmd('long', 'k1'), '{"status":"init","keep":"me"}', { retain: true });
    await p.waitForText(cmd('long', 'k1'), (t) => json(t)['status'] === 'work');
    await until(() => existsSync(runs), 'the script started');
    await first.stop('SIGKILL');
    writeFileSync(go, '');
    await device.startAgent();
    const done = json(await p.waitForText(cmd('long', 'k1'), (t) => json(t)['status'] === 'successful', 15_000));
    assert.deepEqual(done, { status: 'successful', keep: 'me' });
    assert.equal(readFileSync(runs, 'utf8'), 'run\nrun\n');
    assert.deepEqual(device.statuses(p, 'long', 'k1'), ['init', 'work', 'work', 'done', 'successful']);
    assert.match(readFileSync(device.path('logs', 'agent', 'workflow-long-k1.log'), 'utf8'), /resuming in state 'work' after an agent restart/);
  });

  it('kill -9 while awaiting a sub-operation: its result, retained while the agent was down, is picked up', async () => {
    // The sub-operation's executor is another process that never answers: the agent serves only `waiter`.
    device.workflow(
      'waiter.toml',
      `operation = "waiter"
[init]
operation = "external_op"
on_exec = "waiting"
[waiting]
action = "await-operation-completion"
on_success = "successful"
`,
    );
    const first = await device.startAgent();
    const p = await device.probe(['te/device/main///cmd/+/+']);
    await p.publish(cmd('waiter', 'w1'), '{"status":"init"}', { retain: true });
    await p.waitForText(cmd('external_op', 'sub:waiter:w1'), (t) => json(t)['status'] === 'init');
    await first.stop('SIGKILL');
    // The external executor answers while the agent is down.
    await p.publish(cmd('external_op', 'sub:waiter:w1'), '{"status":"successful"}', { retain: true });
    await device.startAgent();
    const done = json(await p.waitForText(cmd('waiter', 'w1'), (t) => ['successful', 'failed'].includes(String(json(t)['status'])), 15_000));
    assert.equal(done['status'], 'successful', 'the retained result of the sub-operation is picked up after the restart');
    await p.waitFor(() => p.texts(cmd('external_op', 'sub:waiter:w1')).at(-1) === '', 'the sub-command cleared');
  });

  it('persisted while awaiting a sub-operation nobody ever published (killed in between): failed with a reason, not stuck', async () => {
    device.workflow(
      'waiter.toml',
      `operation = "waiter"
[init]
operation = "external_op"
on_exec = "waiting"
[waiting]
action = "await-operation-completion"
on_success = "successful"
`,
    );
    // What a kill -9 between persisting `waiting` and publishing the sub-command leaves behind.
    mkdirSync(device.path('state', 'workflows'), { recursive: true });
    writeFileSync(device.path('state', 'workflows', 'waiter-w2.json'), JSON.stringify({ topic: cmd('waiter', 'w2'), payload: { status: 'waiting' } }));
    const p = await device.probe(['te/device/main///cmd/waiter/+']);
    await device.startAgent();
    const done = json(await p.waitForText(cmd('waiter', 'w2'), (t) => json(t)['status'] === 'failed', 20_000));
    assert.equal(done['reason'], 'the sub-operation external_op sub:waiter:w2 is unknown (lost in an agent restart)');
  });

  it('await-agent-restart: a background script restarts the agent; the workflow continues after the restart', async () => {
    // $PPID of the launched script is the agent: a service manager's restart, as `systemctl restart tedge-agent` would.
    const stopper = device.script('restart-agent.sh', 'sleep 0.3; kill -TERM "$PPID"');
    device.workflow(
      'selfrestart.toml',
      `operation = "selfrestart"
[init]
action = "proceed"
on_success = "restart"
[restart]
background_script = "${stopper}"
on_exec = "waiting"
[waiting]
action = "await-agent-restart"
timeout_second = 60
on_success = "verify"
[verify]
script = "true"
on_success = "successful"
`,
    );
    const first = await device.startAgent();
    const p = await device.probe(['te/device/main///cmd/selfrestart/+']);
    await p.publish(cmd('selfrestart', 'r1'), '{"status":"init"}', { retain: true });
    await p.waitForText(cmd('selfrestart', 'r1'), (t) => json(t)['status'] === 'waiting');
    await first.waitForExit();
    await device.startAgent();
    await p.waitForText(cmd('selfrestart', 'r1'), (t) => json(t)['status'] === 'successful', 15_000);
    assert.deepEqual(device.statuses(p, 'selfrestart', 'r1'), ['init', 'restart', 'waiting', 'waiting', 'verify', 'successful']);
  });

  it('builtin:restart inside a workflow: the device reboot is awaited and resumed after the next start', async () => {
    // As a reboot would: /run cleared and the agent stopped.
    const reboot = device.script('fake-reboot.sh', 'rm -rf "$1"; kill -TERM "$PPID"');
    writeFileSync(device.path('config', 'system.toml'), `[system]\nreboot = ${JSON.stringify([reboot, device.path('run')])}\nreboot_timeout_seconds = 30\n`);
    device.workflow(
      'restart.toml',
      `operation = "restart"
[init]
action = "proceed"
on_success = "scheduled"
[scheduled]
operation = "builtin:restart"
on_exec = "executing"
[executing]
action = "await-operation-completion"
on_success = "rebooted"
[rebooted]
script = "true"
on_success = "successful"
`,
    );
    const first = await device.startAgent();
    const p = await device.probe(['te/device/main///cmd/restart/+']);
    await p.publish(cmd('restart', 'rb1'), '{"status":"init"}', { retain: true });
    await first.waitForExit();
    mkdirSync(device.path('run'), { recursive: true });
    await device.startAgent();
    const done = json(await p.waitForText(cmd('restart', 'rb1'), (t) => ['successful', 'failed'].includes(String(json(t)['status'])), 15_000));
    assert.equal(done['status'], 'successful', String(done['reason']));
    assert.deepEqual(device.statuses(p, 'restart', 'rb1'), ['init', 'scheduled', 'executing', 'executing', 'rebooted', 'successful']);
  });

  it('await-agent-restart without a restart: on_timeout', async () => {
    device.workflow(
      'norestart.toml',
      `operation = "norestart"
[init]
action = "await-agent-restart"
timeout_second = 1
on_timeout = { status = "failed", reason = "the agent did not restart" }
on_success = "successful"
`,
    );
    await device.startAgent();
    const p = await device.probe(['te/device/main///cmd/norestart/+']);
    const done = await device.runCommand(p, 'norestart', 'n1', { status: 'init' });
    assert.deepEqual([done['status'], done['reason']], ['failed', 'the agent did not restart']);
  });
});
