import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { BackendResult, FirmwareBackend } from '../../../../src/agent/operations/firmware/backend';
import { FirmwareUpdateHandler } from '../../../../src/agent/operations/firmware/firmware-handler';
import type { FirmwareBus } from '../../../../src/agent/operations/firmware/firmware-bus';
import type { CommandRun, HandlerContext } from '../../../../src/agent/operations/operation';
import { RestartHandler } from '../../../../src/agent/operations/restart/restart-handler';
import { type CommandResult, parseSystemToml } from '../../../../src/connect/system-services';
import type { JsonObject } from '../../../../src/core/json';

/** The handler with fakes around it: the paths the process tests do not reach (a failing reboot, mark-good, install). */
describe('firmware_update handler (fakes)', () => {
  let dir: string;
  let calls: string[];
  let checkpoints: JsonObject[];
  let rebootResult: CommandResult;
  let results: Record<string, BackendResult>;
  let published: Array<[string, string]>;

  const ok = (output = ''): BackendResult => ({ ok: true, output });

  function context(): HandlerContext {
    const values: Record<string, string> = {
      'run.path': join(dir, 'run'),
      'tmp.path': join(dir, 'tmp'),
      'firmware.backend': '/backend',
      'firmware.backend_timeout': '5s',
      'firmware.health_timeout': '1s',
      'mqtt.topic_root': 'te',
    };
    return {
      device: 'device/main//',
      configDir: dir,
      config: { string: (k) => values[k] ?? '', text: (k) => values[k], number: () => 0, boolean: () => false, list: () => [] },
      capabilityChanged: () => undefined,
      reportError: () => undefined,
    };
  }

  function handler(): FirmwareUpdateHandler {
    const backend: FirmwareBackend = {
      install: async () => (calls.push('install'), results['install'] ?? ok('B\n')),
      bootedSlot: async () => (calls.push('booted-slot'), results['booted-slot'] ?? ok('A\n')),
      markGood: async () => (calls.push('mark-good'), results['mark-good'] ?? ok()),
      markBad: async () => (calls.push('mark-bad'), results['mark-bad'] ?? ok()),
    };
    const bus: FirmwareBus = {
      waitForHealth: async () => [],
      publishRetained: async (topic, payload) => {
        published.push([topic, payload]);
      },
    };
    const restart = new RestartHandler({
      loadSystem: () => parseSystemToml('[system]\nreboot = ["reboot"]\nreboot_timeout_seconds = 1\n', 'system.toml'),
      runner: async (command) => {
        calls.push(command.join(' '));
        return command[0] === 'sync' ? { exitCode: 0, stderr: '' } : rebootResult;
      },
      clock: { now: () => new Date() },
      bootTime: () => undefined,
      sleep: async () => undefined,
      isRoot: () => true,
    });
    return new FirmwareUpdateHandler({
      download: async (_url, dest) => writeFileSync(dest, 'image'),
      restart,
      backend: () => backend,
      bus: () => bus,
      clock: { now: () => new Date('2026-01-01T00:00:00Z') },
      bootTime: () => undefined,
      pid: 1,
    });
  }

  function run(payload: JsonObject): CommandRun {
    return {
      entity: 'device/main//',
      operation: 'firmware_update',
      cmdId: 'c1',
      payload: { status: 'executing', name: 'os', version: '2', url: 'http://x/fw', ...payload },
      log: () => undefined,
      checkpoint: async (u) => {
        checkpoints.push(u);
      },
      signal: new AbortController().signal,
      context: context(),
    };
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-fw-unit-'));
    calls = [];
    checkpoints = [];
    published = [];
    results = {};
    rebootResult = { exitCode: 1, stderr: 'reboot: not permitted' };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const steps = (): unknown[] => checkpoints.map((c) => (c['firmwareUpdate'] as JsonObject)['step']);

  it('a reboot command that fails: mark-bad (disarm) on the old slot, failed, no second reboot', async () => {
    const outcome = await handler().execute(run({}));
    assert.deepEqual(outcome, { status: 'failed', reason: 'the trial reboot failed: the reboot command reboot failed: exit code 1: reboot: not permitted' });
    assert.deepEqual(calls, ['booted-slot', 'install', 'sync', 'reboot', 'mark-bad']);
    assert.deepEqual(steps(), ['download', 'install', 'reboot', 'rollback']);
  });

  it('an install that fails: failed, no reboot, nothing else called', async () => {
    results['install'] = { ok: false, reason: '/backend install …: exit status 2 (failure): no space' };
    const outcome = await handler().execute(run({}));
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.status === 'failed' ? outcome.reason : '', /could not install os 2: .*no space/);
    assert.deepEqual(calls, ['booted-slot', 'install']);
  });

  it('resumed after the trial reboot on B: health, mark-good, twin; a failing mark-good rolls back', async () => {
    const state = { firmwareUpdate: { step: 'reboot', slotBefore: 'A', targetSlot: 'B', rebootAttempts: 1 } };
    results['booted-slot'] = ok('B\n');
    const good = await handler().resume(run(state));
    assert.deepEqual(good, { status: 'successful' });
    assert.deepEqual(published, [['te/device/main///twin/firmware', '{"name":"os","version":"2","url":"http://x/fw"}']]);

    calls = [];
    checkpoints = [];
    results['mark-good'] = { ok: false, reason: 'mark-good: exit status 2' };
    rebootResult = { exitCode: 1, stderr: 'no' };
    const bad = await handler().resume(run(state));
    assert.equal(bad.status, 'failed');
    assert.deepEqual(calls, ['booted-slot', 'mark-good', 'mark-bad', 'sync', 'reboot']);
    assert.deepEqual(steps(), ['health', 'commit', 'rollback', 'rollback-reboot']);
  });

  it('capability only with a backend; a request without a URL fails', async () => {
    assert.deepEqual(await handler().capability(context()), {});
    const outcome = await handler().execute({ ...run({}), payload: { status: 'executing', name: 'os', version: '2' } });
    assert.equal(outcome.status, 'failed');
  });
});
