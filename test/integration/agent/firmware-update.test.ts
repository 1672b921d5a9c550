import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { REPO_ROOT } from '../../helpers/paths';
import { json } from '../../helpers/agent-under-test';
import { FW, FirmwareRig, IMAGE, IMAGE_SHA, SHIPPED_FIRMWARE_WORKFLOW, TWIN } from './firmware-setup';

/**
 * firmware_update of the real tedge-agent process on a real mosquitto, driven only through MQTT, over a
 * simulated A/B backend whose reboot stops the agent (the test starts it again, as the next boot would).
 */
describe('firmware_update (process, real mosquitto, simulated A/B device)', { timeout: 60_000 }, () => {
  let rig: FirmwareRig | undefined;

  afterEach(async () => {
    await rig?.stop();
    rig = undefined;
  });

  it('success: download, install into B, trial boot, health gate, mark-good, twin; capability {}', async () => {
    rig = await FirmwareRig.start();
    await rig.startAgent();
    await rig.cloud.waitForText('te/device/main///cmd/firmware_update', (t) => t === '{}');
    await rig.request('ok1', { sha256: IMAGE_SHA, c8y: { id: '7' } });
    const done = await rig.runToEnd('ok1');
    assert.equal(done['status'], 'successful', JSON.stringify(done));
    assert.deepEqual(done['c8y'], { id: '7' });
    assert.deepEqual(rig.device.assertConsistent(), { booted: 'B', primary: 'B' });
    assert.deepEqual(readFileSync(join(rig.device.dir, 'slot-B')), IMAGE);
    const state = done['firmwareUpdate'] as Record<string, unknown>;
    assert.equal(state['slotBefore'], 'A');
    assert.equal(state['targetSlot'], 'B');
    assert.equal(rig.boots, 2);
    const twin = await rig.cloud.waitForText(TWIN);
    assert.deepEqual(json(twin), { name: 'os', version: '2.0', url: rig.server.url });
    // Retained: a client subscribing later gets it.
    const late = await rig.probe([TWIN]);
    assert.deepEqual(json(await late.waitForText(TWIN)), { name: 'os', version: '2.0', url: rig.server.url });
    // What the cloud saw: executing before the reboot, and the image file is gone.
    assert.ok(rig.cloud.texts(FW('ok1')).some((t) => json(t)['status'] === 'executing'));
    assert.equal(existsSync(join(rig.dir, 'tmp', 'firmware', 'ok1.img')), false);
    assert.match(rig.log('ok1'), /sha256 checked/);
  });

  it('bootloader fallback: the trial slot does not boot → failed, running A', async () => {
    rig = await FirmwareRig.start();
    rig.device.set('fallback', '1');
    await rig.startAgent();
    await rig.request('fb1', {});
    const done = await rig.runToEnd('fb1');
    assert.equal(done['status'], 'failed');
    assert.equal(done['reason'], 'the bootloader fell back to A');
    assert.deepEqual(rig.device.assertConsistent(), { booted: 'A', primary: 'A' });
  });

  it('health-gate rollback: a configured mapper never comes up → mark-bad, reboot, failed on A', async () => {
    rig = await FirmwareRig.start({ env: { TEDGE_C8Y_URL: 'tenant.example.com', TEDGE_FIRMWARE_HEALTH_TIMEOUT: '2s' } });
    await rig.startAgent();
    await rig.request('hg1', {});
    const done = await rig.runToEnd('hg1');
    assert.equal(done['status'], 'failed');
    assert.equal(done['reason'], 'health check failed: tedge-mapper-c8y, tedge-mapper-bridge-c8y not up within 2 s (firmware.health_timeout); rolled back to A');
    assert.deepEqual(rig.device.assertConsistent(), { booted: 'A', primary: 'A' });
    assert.ok(rig.device.calls().includes('mark-bad'));
    assert.equal(rig.boots, 3);
    assert.deepEqual(rig.cloud.texts(TWIN), []);
  });

  it('health gate passes when the mapper and the bridge report up after the boot', async () => {
    rig = await FirmwareRig.start({ env: { TEDGE_C8Y_URL: 'tenant.example.com', TEDGE_FIRMWARE_HEALTH_TIMEOUT: '15s' } });
    const cloud = rig.cloud;
    // A stale `up` from before the reboot must not count: only statuses newer than the reboot do.
    const up = (): string => JSON.stringify({ status: 'up', pid: 1, time: Math.floor(Date.now() / 1000) + 1 });
    await cloud.publish('te/device/main/service/tedge-mapper-c8y/status/health', JSON.stringify({ status: 'up', pid: 1, time: 1000 }), { retain: true });
    await rig.startAgent();
    await rig.request('hg2', {});
    const done = await rig.runToEnd('hg2', 40_000, async () => {
      if (rig?.boots !== 1) return;
      // The new boot: mapper and bridge come up a little after the agent.
      setTimeout(() => {
        void cloud.publish('te/device/main/service/tedge-mapper-c8y/status/health', up(), { retain: true });
        void cloud.publish('te/device/main/service/tedge-mapper-bridge-c8y/status/health', up(), { retain: true });
      }, 2500);
    });
    assert.equal(done['status'], 'successful', JSON.stringify(done));
    assert.deepEqual(rig.device.assertConsistent(), { booted: 'B', primary: 'B' });
  });

  it('verify failure: firmware.verify exits non-zero → rolled back to A', async () => {
    rig = await FirmwareRig.start({ env: { TEDGE_FIRMWARE_VERIFY: '["/bin/sh", "-c", "exit 3"]' } });
    await rig.startAgent();
    await rig.request('vf1', {});
    const done = await rig.runToEnd('vf1');
    assert.equal(done['status'], 'failed');
    assert.match(String(done['reason']), /^firmware\.verify failed: .*exit status 3.*; rolled back to A$/);
    assert.deepEqual(rig.device.assertConsistent(), { booted: 'A', primary: 'A' });
  });

  it('sha256 mismatch: nothing installed, no reboot', async () => {
    rig = await FirmwareRig.start();
    await rig.startAgent();
    await rig.request('sh1', { sha256: '0'.repeat(64) });
    const done = await rig.runToEnd('sh1');
    assert.equal(done['status'], 'failed');
    assert.match(String(done['reason']), /^the firmware image is corrupt or truncated: sha256 [0-9a-f]{64} \(\d+ bytes\) is not the expected 0{64}$/);
    assert.equal(rig.device.calls().filter((c) => c.startsWith('install')).length, 0);
    assert.equal(existsSync(join(rig.device.dir, 'slot-B')), false);
    assert.equal(rig.boots, 1);
    assert.equal(existsSync(join(rig.dir, 'tmp', 'firmware', 'sh1.img')), false);
  });

  it('a hanging backend is killed after firmware.backend_timeout', async () => {
    rig = await FirmwareRig.start({ env: { TEDGE_FIRMWARE_BACKEND_TIMEOUT: '2s' } });
    rig.device.set('hang-install', '1');
    await rig.startAgent();
    await rig.request('hang1', {});
    const done = await rig.runToEnd('hang1');
    assert.equal(done['status'], 'failed');
    assert.match(String(done['reason']), /could not install os 2\.0: .* timed out after 2 s and was killed \(firmware\.backend_timeout\)/);
    assert.deepEqual(rig.device.assertConsistent(), { booted: 'A', primary: 'A' });
  });

  it('the shipped example backend (packaging/firmware/tedge-firmware-script) over two files, built in (no workflow file)', async () => {
    rig = await FirmwareRig.start({ workflow: false, env: { TEDGE_FIRMWARE_BACKEND: join(REPO_ROOT, 'packaging', 'firmware', 'tedge-firmware-script') } });
    const slots = join(rig.dir, 'slots');
    rig.env['FIRMWARE_SLOTS'] = slots;
    // Its bootloader part runs at each boot: here in the reboot command, before the agent is stopped.
    const reboot = join(rig.dir, 'script-reboot.sh');
    writeFileSync(reboot, `#!/bin/sh\nFIRMWARE_SLOTS=${JSON.stringify(slots)} ${JSON.stringify(rig.env['TEDGE_FIRMWARE_BACKEND'])} boot\nrm -rf "$1"; mkdir -p "$1"\nkill -TERM $PPID\n`);
    chmodSync(reboot, 0o755);
    writeFileSync(join(rig.dir, 'config', 'system.toml'), `[system]\nreboot = ${JSON.stringify([reboot, join(rig.dir, 'run')])}\n`);
    await rig.startAgent();
    await rig.request('ex1', { sha256: IMAGE_SHA });
    const done = await rig.runToEnd('ex1');
    assert.equal(done['status'], 'successful', JSON.stringify(done));
    assert.deepEqual(readFileSync(join(slots, 'slot-B')), IMAGE);
    assert.equal(readFileSync(join(slots, 'primary'), 'utf8').trim(), 'B');
    assert.equal(readFileSync(join(slots, 'booted'), 'utf8').trim(), 'B');
    assert.equal(readFileSync(join(slots, 'trial'), 'utf8').trim(), '');
    // Without the file the command goes from executing to the end: no workflow state is published.
    assert.deepEqual([...new Set(rig.cloud.texts(FW('ex1')).map((t) => json(t)['status']))], ['init', 'executing', 'successful']);
  });

  it("a user's copy of the shipped workflow with a script state between install and reboot runs it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tedge-fw-user-'));
    const script = join(dir, 'announce.sh');
    writeFileSync(script, `#!/bin/sh\necho "$*" > ${JSON.stringify(join(dir, 'announced'))}\n`);
    chmodSync(script, 0o755);
    const shipped = readFileSync(SHIPPED_FIRMWARE_WORKFLOW, 'utf8');
    const edited = shipped.replace('[install]\naction = "builtin:firmware_update:install"\non_success = "restart"', '[install]\naction = "builtin:firmware_update:install"\non_success = "announce"');
    assert.notEqual(edited, shipped);
    rig = await FirmwareRig.start({ workflow: `${edited}\n[announce]\nscript = "${script} \${.payload.name} \${.payload.firmwareUpdate.targetSlot}"\non_success = "restart"\n` });
    await rig.startAgent();
    await rig.request('u1', {});
    const done = await rig.runToEnd('u1');
    assert.equal(done['status'], 'successful', JSON.stringify(done));
    assert.equal(readFileSync(join(dir, 'announced'), 'utf8'), 'os B\n');
    const states = [...new Set(rig.cloud.texts(FW('u1')).map((t) => json(t)['status']))];
    assert.deepEqual(states, ['init', 'scheduled', 'executing', 'install', 'announce', 'restart', 'health', 'commit', 'successful']);
    assert.deepEqual(rig.device.assertConsistent(), { booted: 'B', primary: 'B' });
    rmSync(dir, { recursive: true, force: true });
  });

  it('refused when the free space under tmp.path is short (a 4 MiB tmpfs): nothing installed', async (t) => {
    rig = await FirmwareRig.start();
    const tmp = rig.env['TEDGE_TMP_PATH'] ?? '';
    mkdirSync(tmp, { recursive: true });
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', tmp]);
    if (mounted.status !== 0) {
      t.skip(`cannot mount a small tmpfs here: ${String(mounted.stderr).trim()}`);
      return;
    }
    try {
      await rig.startAgent();
      await rig.request('sp1', {});
      const done = await rig.runToEnd('sp1');
      assert.equal(done['status'], 'failed');
      assert.match(String(done['reason']), /^not enough free space under .*firmware for the firmware image: /);
      assert.equal(rig.device.calls().filter((c) => c.startsWith('install')).length, 0);
    } finally {
      await rig.agent?.stop('SIGKILL');
      spawnSync('umount', [tmp]);
    }
  });

  it('without firmware.backend: no capability, a request fails with the reason', async () => {
    rig = await FirmwareRig.start({ env: { TEDGE_FIRMWARE_BACKEND: '' } });
    await rig.startAgent();
    await rig.request('nb1', {});
    const done = await rig.runToEnd('nb1');
    assert.match(String(done['reason']), /no firmware backend is configured \(firmware\.backend\)$/);
    // Cleared (an empty retained message), never `{}`.
    assert.ok(rig.cloud.texts('te/device/main///cmd/firmware_update').every((t) => t === ''));
  });
});
