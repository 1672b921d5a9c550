import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SimOperation } from '../../helpers/cloud-sim/c8y-behaviour';
import { BridgeDevice } from '../../helpers/bridge-device';
import { Daemon } from '../../helpers/daemon';
import { SimulatedAbDevice } from '../../helpers/firmware-device';
import { freePort } from '../../helpers/mosquitto';
import { REPO_ROOT } from '../../helpers/paths';

const DEVICE = `c8y-fw-it-${process.pid}`;
const IMAGE = Buffer.from(`firmware 2.0\n${'y'.repeat(64 * 1024)}\n`);

/**
 * c8y_Firmware end to end on real processes: the simulated tenant creates the operation with a binary it
 * hosts, the built-in bridge brings it to the local mosquitto, tedge-mapper c8y copies the binary into the
 * agent's file transfer service and publishes firmware_update, the real tedge-agent runs the shipped
 * workflow (packaging/operations/firmware_update.toml) over a simulated A/B backend whose reboot stops the
 * agent; the test plays the boot (mapper and agent started again), and the tenant gets the final status
 * and the c8y_Firmware fragment.
 */
describe('c8y_Firmware: cloud → mapper → agent (A/B backend, shipped workflow) → cloud', { timeout: 90_000 }, () => {
  let dev: BridgeDevice;
  let ab: SimulatedAbDevice;
  let agentEnv: Record<string, string>;
  let agent: Daemon;
  let mapper: Daemon;

  /** What the tenant received for the inventory fragment c8y_Firmware, in order. */
  function firmwareFragments(): Array<Record<string, unknown>> {
    return dev.sim
      .messages(`inventory/managedObjects/update/${DEVICE}`)
      .map((p) => (JSON.parse(p) as Record<string, unknown>)['c8y_Firmware'] as Record<string, unknown> | undefined)
      .filter((f) => f !== undefined);
  }

  async function finished(id: string, timeoutMs = 30_000): Promise<SimOperation> {
    await dev.sim.waitFor(() => ['SUCCESSFUL', 'FAILED'].includes(dev.sim.c8y.operations.get(id)?.status ?? ''), `operation ${id} to finish`, timeoutMs);
    const op = dev.sim.c8y.operations.get(id);
    assert.ok(op);
    return op;
  }

  /** The device reboots (the backend's reboot stopped the agent): everything starts again, as at a boot. */
  async function boot(): Promise<void> {
    await new Promise<void>((resolve) => (agent.exited ? resolve() : agent.process.once('exit', () => resolve())));
    await mapper.stop();
    mkdirSync(agentEnv['TEDGE_RUN_PATH'] ?? '', { recursive: true });
    mapper = dev.startMapper();
    agent = Daemon.start('tedge-agent', [], agentEnv);
    await dev.bridgeUp();
  }

  before(async () => {
    dev = await BridgeDevice.start({ deviceId: DEVICE, probeTopics: ['te/device/main///cmd/firmware_update/+'], env: { TEDGE_C8Y_PROXY_BIND_PORT: String(await freePort()), TEDGE_HTTP_BIND_PORT: String(await freePort()) } });
    const dir = dev.configDir;
    for (const d of ['state', 'logs', 'run', 'tmp', 'operations']) mkdirSync(join(dir, d), { recursive: true });
    copyFileSync(join(REPO_ROOT, 'packaging', 'operations', 'firmware_update.toml'), join(dir, 'operations', 'firmware_update.toml'));
    ab = new SimulatedAbDevice(join(dir, 'ab'), join(dir, 'run'));
    writeFileSync(join(dir, 'system.toml'), `[system]\nreboot = ${JSON.stringify([ab.reboot])}\nreboot_timeout_seconds = 30\n`);
    dev.sim.c8y.identify(DEVICE);
    agentEnv = {
      ...dev.env,
      TEDGE_AGENT_STATE_PATH: join(dir, 'state'),
      TEDGE_LOGS_PATH: join(dir, 'logs'),
      TEDGE_RUN_PATH: join(dir, 'run'),
      TEDGE_TMP_PATH: join(dir, 'tmp'),
      TEDGE_SUDO_ENABLE: 'false',
      TEDGE_FIRMWARE_BACKEND: ab.backend,
      TEDGE_FIRMWARE_HEALTH_TIMEOUT: '20s',
    };
    agent = Daemon.start('tedge-agent', [], agentEnv);
    mapper = dev.startMapper();
    await dev.bridgeUp();
  });

  after(async () => {
    if (agent && !agent.exited) await agent.stop();
    await dev?.stop();
  });

  it('a tenant binary: 114 lists c8y_Firmware; EXECUTING, the trial boot of B, the health gate, SUCCESSFUL and c8y_Firmware {name, version, url}', async () => {
    await dev.sim.waitFor(() => dev.sim.messages('s/us').some((p) => p.startsWith('114,') && p.split(',').includes('c8y_Firmware')), 'c8y_Firmware in the 114');
    const url = `${dev.sim.httpBaseUrl}/inventory/binaries/${dev.sim.http.addBinary(IMAGE)}`;
    const id = await dev.sim.createOperation({ c8y_Firmware: { name: 'os', version: '2.0', url } }, DEVICE);
    await dev.sim.waitFor(() => dev.sim.c8y.operations.get(id)?.status === 'EXECUTING', 'EXECUTING');
    await boot();
    const op = await finished(id);
    assert.equal(op.status, 'SUCCESSFUL', `${op.failureReason ?? ''}\n${agent.output}`);
    assert.deepEqual(ab.assertConsistent(), { booted: 'B', primary: 'B' });
    assert.deepEqual(readFileSync(join(ab.dir, 'slot-B')), IMAGE);
    // The agent downloaded the mapper's copy, never the tenant's URL (it has no cloud credentials).
    const cmd = dev.probe.texts(`te/device/main///cmd/firmware_update/c8y-mapper-${id}`).find((t) => t.length > 0) ?? '';
    assert.match(cmd, /"tedgeUrl":"http:\/\/127\.0\.0\.1:\d+\/te\/v1\/files\//);
    // The twin `firmware`, forwarded as the inventory fragment, with Cumulocity's names.
    await dev.sim.waitFor(() => firmwareFragments().length > 0, 'c8y_Firmware in the inventory');
    assert.deepEqual(firmwareFragments(), [{ name: 'os', version: '2.0', url }]);
    // The status over SmartREST with the operation's id (c8y.smartrest.use_operation_id): 504 executing, 506 successful.
    assert.ok(dev.sim.messages('s/us').includes(`504,${id}`) && dev.sim.messages('s/us').includes(`506,${id}`), dev.sim.messages('s/us').join('\n'));
  });

  it('the bootloader falls back to the old slot: FAILED with the reason, c8y_Firmware unchanged', async () => {
    ab.set('fallback', '1');
    const url = `${dev.sim.httpBaseUrl}/inventory/binaries/${dev.sim.http.addBinary(IMAGE)}`;
    const id = await dev.sim.createOperation({ c8y_Firmware: { name: 'os', version: '3.0', url } }, DEVICE);
    await dev.sim.waitFor(() => dev.sim.c8y.operations.get(id)?.status === 'EXECUTING', 'EXECUTING');
    await boot();
    const op = await finished(id);
    assert.equal(op.status, 'FAILED');
    assert.equal(op.failureReason, 'the bootloader fell back to B');
    assert.deepEqual(ab.assertConsistent(), { booted: 'B', primary: 'B' });
    assert.ok(dev.sim.messages('s/us').some((m) => m.startsWith(`505,${id},`)), 'FAILED over SmartREST, with its reason');
    // Only the committed version ever reached the inventory (the restarted mapper may send the retained twin again).
    assert.deepEqual([...new Set(firmwareFragments().map((f) => f['version']))], ['2.0']);
  });
});
