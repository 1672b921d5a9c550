import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AGENT_HEALTH as MAIN_HEALTH, AgentUnderTest, cmd, json } from '../../helpers/agent-under-test';
import type { BusProbe } from '../../helpers/bus-probe';
import { runCli } from '../../helpers/daemon';

/**
 * The command framework and the restart operation of the real tedge-agent process, driven only
 * through MQTT as a cloud mapper would: requests published retained, states read back.
 */

const CHILD_HEALTH = 'te/device/child1/service/tedge-agent/status/health';
const RESTART = (id: string, device = 'main'): string => cmd('restart', id, device);

describe('tedge-agent operations (process, real mosquitto)', { timeout: 120_000 }, () => {
  let device: AgentUnderTest;

  /** A health check round trip: the agent has handled every message published before it. */
  async function settled(p: BusProbe, health = MAIN_HEALTH, device = 'main'): Promise<void> {
    const before = p.texts(health).length;
    await p.publish(`te/device/${device}///cmd/health/check`, '{}');
    await p.waitFor(() => p.texts(health).length > before, 'a health status after the check');
    await new Promise((r) => setTimeout(r, 200));
  }

  function systemToml(reboot: readonly string[], timeoutSeconds: number): void {
    writeFileSync(device.path('config', 'system.toml'), `[system]\nreboot = ${JSON.stringify(reboot)}\nreboot_timeout_seconds = ${timeoutSeconds}\n`);
  }

  /** As a reboot would: /run is cleared and the agent is stopped (SIGTERM, as init does). */
  function fakeReboot(): string {
    return device.executable(device.path('fake-reboot.sh'), '#!/bin/sh\nrm -rf "$1"\nkill -TERM "$PPID"\n');
  }

  beforeEach(async () => {
    device = await AgentUnderTest.start('agent-ops');
  });

  afterEach(async () => {
    await device.close();
  });

  it('publishes its restart capability and the inventory.json fragments retained', async () => {
    mkdirSync(device.path('config', 'device'));
    writeFileSync(device.path('config', 'device', 'inventory.json'), '{"device_OS":{"family":"Debian","version":"12"},"subtype":"gateway-x"}');
    await device.startAgent();
    const late = await device.probe(['te/device/main///cmd/+', 'te/device/main///twin/+']);
    await late.waitFor((r) => r.some((m) => m.topic === 'te/device/main///twin/subtype'), 'the inventory twin data');
    assert.deepEqual(late.texts('te/device/main///cmd/restart'), ['{}']);
    assert.ok(late.received.filter((m) => m.topic === 'te/device/main///cmd/restart').every((m) => m.retain === true));
    assert.deepEqual(json(late.texts('te/device/main///twin/device_OS')[0]), { family: 'Debian', version: '12' });
    assert.deepEqual(late.texts('te/device/main///twin/subtype'), ['"gateway-x"']);

    // A broker restarted without persistence has lost them: the agent says them again.
    await device.closeProbes();
    await device.broker.restart();
    const after = await device.probe(['te/device/main///cmd/restart', 'te/device/main///twin/subtype']);
    await after.waitFor((r) => r.some((m) => m.topic === 'te/device/main///cmd/restart') && r.some((m) => m.topic === 'te/device/main///twin/subtype'), 'capability and inventory after the broker restart', 15_000);
  });

  it('restart: executing before the reboot, successful after it, unknown fields kept', async () => {
    systemToml([fakeReboot(), device.path('run')], 30);
    const first = await device.startAgent();
    const cloud = await device.probe([RESTART('r1'), MAIN_HEALTH]);
    await cloud.publish(RESTART('r1'), '{"status":"init","c8y":{"id":"42"}}', { retain: true });
    await cloud.waitForText(RESTART('r1'), (t) => json(t)['status'] === 'executing');
    await first.waitForExit();
    assert.deepEqual(cloud.texts(RESTART('r1')).map(json), [{ status: 'init', c8y: { id: '42' } }, { status: 'executing', c8y: { id: '42' } }]);

    mkdirSync(device.path('run')); // the new boot's empty /run
    await device.startAgent();
    const done = await cloud.waitForText(RESTART('r1'), (t) => json(t)['status'] === 'successful', 15_000);
    assert.deepEqual(json(done), { status: 'successful', c8y: { id: '42' } });
    assert.match(readFileSync(device.path('logs', 'agent', 'workflow-restart-r1.log'), 'utf8'), /rebooting with .*fake-reboot\.sh/);
    // Kept until the requester clears it, as a mapper does once it has reported the result.
    assert.equal(json(readFileSync(device.path('state', 'workflows', 'restart-r1.json'), 'utf8'))['delivered'], true);
    await cloud.publish(RESTART('r1'), '', { retain: true });
    await settled(cloud);
    assert.deepEqual(readdirSync(device.path('state', 'workflows')), [], 'forgotten once cleared');
  });

  it('restart: failed with a reason when only the agent restarted', async () => {
    systemToml(['true'], 60);
    const first = await device.startAgent();
    const cloud = await device.probe([RESTART('r2')]);
    await cloud.publish(RESTART('r2'), '{"status":"init"}', { retain: true });
    await cloud.waitForText(RESTART('r2'), (t) => json(t)['status'] === 'executing');
    assert.equal(await first.stop('SIGTERM'), 0);
    await device.startAgent();
    const failed = json(await cloud.waitForText(RESTART('r2'), (t) => json(t)['status'] === 'failed'));
    assert.match(String(failed['reason']), /the agent restarted but the device did not reboot/);
  });

  it('restart: failed when the device does not reboot within reboot_timeout_seconds', async () => {
    systemToml(['true'], 1);
    await device.startAgent();
    const cloud = await device.probe([RESTART('r3')]);
    await cloud.publish(RESTART('r3'), '{"status":"init"}', { retain: true });
    const failed = json(await cloud.waitForText(RESTART('r3'), (t) => json(t)['status'] === 'failed'));
    assert.equal(failed['reason'], 'the device did not reboot within 1 s (reboot_timeout_seconds) after true');
  });

  it('kill -9 while a command is executing: a terminal state after the next start', async () => {
    systemToml(['true'], 60);
    const first = await device.startAgent();
    const cloud = await device.probe([RESTART('k1')]);
    await cloud.publish(RESTART('k1'), '{"status":"init"}', { retain: true });
    await cloud.waitForText(RESTART('k1'), (t) => json(t)['status'] === 'executing');
    await first.stop('SIGKILL');
    await device.startAgent();
    const failed = json(await cloud.waitForText(RESTART('k1'), (t) => json(t)['status'] === 'failed'));
    assert.match(String(failed['reason']), /did not reboot/);
  });

  it('runs an init request retained while it was down; ends a malformed one failed; ignores other entities', async () => {
    const cloud = await device.probe(['te/+/+/+/+/cmd/+/+', MAIN_HEALTH]);
    systemToml(['true'], 60);
    await cloud.publish(RESTART('early'), '{}', { retain: true });
    await device.startAgent();
    await cloud.waitForText(RESTART('early'), (t) => json(t)['status'] === 'executing');

    await cloud.publish(RESTART('bad'), '{"status":', { retain: true });
    const failed = json(await cloud.waitForText(RESTART('bad'), (t) => json(t)['status'] === 'failed'));
    assert.match(String(failed['reason']), /^Invalid JSON/);

    await cloud.publish(RESTART('x', 'other'), '{"status":"init"}', { retain: true });
    await cloud.publish('te/device/main///cmd/no_such_op/1', '{"status":"init"}', { retain: true });
    await settled(cloud);
    assert.deepEqual(cloud.texts(RESTART('x', 'other')), ['{"status":"init"}']);
    assert.deepEqual(cloud.texts('te/device/main///cmd/no_such_op/1'), ['{"status":"init"}']);
  });

  it('starts with many retained commands and registrations on the broker (more than mosquitto sends unacknowledged)', async () => {
    systemToml(['true'], 60);
    const cloud = await device.probe([RESTART('fresh')]);
    for (let i = 0; i < 40; i++) {
      await cloud.publish(RESTART(`old-${i}`), '{"status":"successful"}', { retain: true });
      await cloud.publish(`te/device/sensor${i}//`, '{"@type":"child-device"}', { retain: true });
    }
    await device.startAgent();
    await cloud.publish(RESTART('fresh'), '{"status":"init"}', { retain: true });
    await cloud.waitForText(RESTART('fresh'), (t) => json(t)['status'] === 'executing');
  });

  it('forgets a cleared command: no state file, nothing published for it after a restart', async () => {
    systemToml(['true'], 60);
    const first = await device.startAgent();
    const cloud = await device.probe([RESTART('c1'), MAIN_HEALTH]);
    await cloud.publish(RESTART('c1'), '{"status":"init"}', { retain: true });
    await cloud.waitForText(RESTART('c1'), (t) => json(t)['status'] === 'executing');
    await cloud.publish(RESTART('c1'), '', { retain: true });
    await settled(cloud);
    assert.deepEqual(readdirSync(device.path('state', 'workflows')), []);
    await first.stop('SIGTERM');
    const count = cloud.texts(RESTART('c1')).length;
    await device.startAgent();
    await settled(cloud);
    assert.equal(cloud.texts(RESTART('c1')).length, count, `nothing new on the cleared command: ${cloud.texts(RESTART('c1')).join(' | ')}`);
  });

  it('says in --help what it does', async () => {
    const help = await runCli('tedge-agent', ['--help'], device.env);
    assert.equal(help.code, 0);
    for (const what of ['restart', 'software_update', 'workflows', 'inventory.json', 'logs.max_per_operation', '--mqtt-device-topic-id']) assert.ok(help.stdout.includes(what), what);
  });

  it('a child agent serves the commands of its own device only, with its own capability and state, next to the main agent', async () => {
    systemToml(['true'], 60);
    await device.startAgent();
    const childEnv = { TEDGE_AGENT_STATE_PATH: device.path('child-state'), TEDGE_RUN_PATH: device.path('child-run') };
    mkdirSync(device.path('child-run'));
    await device.startAgent({ args: ['--mqtt-device-topic-id', 'device/child1//'], env: childEnv, health: CHILD_HEALTH });
    const cloud = await device.probe(['te/+/+/+/+/cmd/+/+', 'te/device/child1///cmd/+', CHILD_HEALTH, MAIN_HEALTH]);
    await cloud.waitFor((r) => r.some((m) => m.topic === 'te/device/child1///cmd/restart'), 'the child capability');

    await cloud.publish(RESTART('m1'), '{"status":"init","who":"main"}', { retain: true });
    await cloud.publish(RESTART('c1', 'child1'), '{"status":"init","who":"child"}', { retain: true });
    await cloud.waitForText(RESTART('c1', 'child1'), (t) => json(t)['status'] === 'executing');
    await cloud.waitForText(RESTART('m1'), (t) => json(t)['status'] === 'executing');
    await settled(cloud, CHILD_HEALTH, 'child1');
    await settled(cloud);
    // Each command handled once, by the agent of its device.
    assert.deepEqual(cloud.texts(RESTART('c1', 'child1')).map(json), [{ status: 'init', who: 'child' }, { status: 'executing', who: 'child' }]);
    assert.deepEqual(cloud.texts(RESTART('m1')).map(json), [{ status: 'init', who: 'main' }, { status: 'executing', who: 'main' }]);
    assert.deepEqual(readdirSync(device.path('child-state', 'workflows')), ['restart-c1.json']);
    assert.deepEqual(readdirSync(device.path('state', 'workflows')), ['restart-m1.json']);
    assert.ok(existsSync(device.path('child-run', 'tedge_agent_restart')));
  });
});
