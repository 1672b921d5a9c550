import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { until } from '../../helpers/agent-under-test';
import { FirmwareRig, IMAGE, IMAGE_SHA } from './firmware-setup';

/**
 * kill -9 of the real tedge-agent at each state of firmware_update: the command always ends terminal
 * and the simulated A/B device always runs its primary slot with nothing left armed.
 */
describe('firmware_update: kill -9 of the agent at each state', { timeout: 90_000 }, () => {
  let rig: FirmwareRig | undefined;

  afterEach(async () => {
    await rig?.stop();
    rig = undefined;
  });

  it('during the download: resumed with a Range request after the restart', async () => {
    rig = await FirmwareRig.start({ stallFirst: true });
    const r = rig;
    await r.startAgent();
    await r.request('k-dl', { sha256: IMAGE_SHA });
    const ended = r.runToEnd('k-dl');
    await until(() => r.server.requests.length >= 1 && r.log('k-dl').includes('downloading'), 'the first download request');
    await new Promise((res) => setTimeout(res, 300)); // half the body written to the .part file
    r.agent?.process.kill('SIGKILL');
    const done = await ended;
    assert.equal(done['status'], 'successful', JSON.stringify(done));
    assert.match(r.server.requests[1]?.range ?? '', /^bytes=\d+-$/);
    assert.deepEqual(readFileSync(join(r.device.dir, 'slot-B')), IMAGE);
    assert.deepEqual(r.device.assertConsistent(), { booted: 'B', primary: 'B' });
  });

  it('during the install (slot half written): installed again', async () => {
    rig = await FirmwareRig.start();
    rig.device.set('kill-install', '1');
    await rig.startAgent();
    await rig.request('k-inst', { sha256: IMAGE_SHA });
    const done = await rig.runToEnd('k-inst');
    assert.equal(done['status'], 'successful', JSON.stringify(done));
    assert.equal(rig.device.calls().filter((c) => c.startsWith('install')).length, 2);
    assert.deepEqual(readFileSync(join(rig.device.dir, 'slot-B')), IMAGE);
    assert.deepEqual(rig.device.assertConsistent(), { booted: 'B', primary: 'B' });
  });

  it('while waiting for the trial reboot (the reboot never came): asked for again', async () => {
    rig = await FirmwareRig.start();
    rig.device.set('no-reboot-once', '1');
    await rig.startAgent();
    await rig.request('k-rb', {});
    const done = await rig.runToEnd('k-rb');
    assert.equal(done['status'], 'successful', JSON.stringify(done));
    assert.ok(rig.device.calls().includes('no-reboot'));
    assert.equal((done['firmwareUpdate'] as Record<string, unknown>)['rebootAttempts'], 2);
    assert.deepEqual(rig.device.assertConsistent(), { booted: 'B', primary: 'B' });
  });

  it('during the health gate: the gate goes on after the restart, with the same deadline', async () => {
    rig = await FirmwareRig.start({ env: { TEDGE_C8Y_URL: 'tenant.example.com', TEDGE_FIRMWARE_HEALTH_TIMEOUT: '25s' } });
    const r = rig;
    await r.startAgent();
    await r.request('k-hg', {});
    const ended = r.runToEnd('k-hg', 45_000);
    await until(() => r.boots === 2 && r.log('k-hg').includes('health gate: waiting'), 'the health gate on the new slot', 20_000);
    r.agent?.process.kill('SIGKILL');
    await until(() => r.boots === 3 && (r.log('k-hg').match(/health gate: waiting/g) ?? []).length === 2, 'the health gate after the restart', 20_000);
    const up = JSON.stringify({ status: 'up', pid: 1, time: Math.floor(Date.now() / 1000) + 1 });
    await r.cloud.publish('te/device/main/service/tedge-mapper-c8y/status/health', up, { retain: true });
    await r.cloud.publish('te/device/main/service/tedge-mapper-bridge-c8y/status/health', up, { retain: true });
    const done = await ended;
    assert.equal(done['status'], 'successful', JSON.stringify(done));
    const deadlines = [...r.log('k-hg').matchAll(/health gate: waiting until (\S+)/g)].map((m) => m[1]);
    assert.equal(deadlines.length, 2);
    assert.equal(deadlines[0], deadlines[1]);
    assert.deepEqual(r.device.assertConsistent(), { booted: 'B', primary: 'B' });
  });

  it('during mark-good: committed after the restart', async () => {
    rig = await FirmwareRig.start();
    rig.device.set('kill-mark-good', '1');
    await rig.startAgent();
    await rig.request('k-good', {});
    const done = await rig.runToEnd('k-good');
    assert.equal(done['status'], 'successful', JSON.stringify(done));
    assert.equal(rig.device.calls().filter((c) => c === 'mark-good').length, 2);
    assert.deepEqual(rig.device.assertConsistent(), { booted: 'B', primary: 'B' });
  });

  it('during mark-bad of a rollback: rolled back after the restart', async () => {
    rig = await FirmwareRig.start({ env: { TEDGE_FIRMWARE_VERIFY: '/bin/false' } });
    rig.device.set('kill-mark-bad', '1');
    await rig.startAgent();
    await rig.request('k-bad', {});
    const done = await rig.runToEnd('k-bad');
    assert.equal(done['status'], 'failed');
    assert.match(String(done['reason']), /^firmware\.verify failed: .*; rolled back to A$/);
    assert.deepEqual(rig.device.assertConsistent(), { booted: 'A', primary: 'A' });
  });

  it('while waiting for the rollback reboot: asked for again, failed on A', async () => {
    rig = await FirmwareRig.start({ env: { TEDGE_FIRMWARE_VERIFY: '/bin/false' } });
    const r = rig;
    await r.startAgent();
    await r.request('k-rrb', {});
    const done = await r.runToEnd('k-rrb', 40_000, () => {
      // After the trial reboot: the rollback reboot will not happen the first time.
      if (r.boots === 1) r.device.set('no-reboot-once', '1');
    });
    assert.equal(done['status'], 'failed');
    assert.match(String(done['reason']), /; rolled back to A$/);
    assert.ok(r.device.calls().includes('no-reboot'));
    assert.deepEqual(r.device.assertConsistent(), { booted: 'A', primary: 'A' });
  });

  it('a power cut once install armed the slot: the half-confirmed slot booted, rolled back to A', async () => {
    rig = await FirmwareRig.start();
    rig.device.set('powercut-install', '1');
    await rig.startAgent();
    await rig.request('k-pc', {});
    const done = await rig.runToEnd('k-pc');
    assert.equal(done['status'], 'failed');
    assert.equal(done['reason'], 'the install was interrupted and the device booted B; rolled back to A');
    assert.deepEqual(rig.device.assertConsistent(), { booted: 'A', primary: 'A' });
  });
});
