import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { CommandRun, HandlerContext, Outcome } from '../../../../src/agent/operations/operation';
import { markerPath, readMarker, systemBootTime, writeMarker } from '../../../../src/agent/operations/restart/reboot-marker';
import { RestartHandler, type RestartDeps, rebootOutcome } from '../../../../src/agent/operations/restart/restart-handler';
import { type Argv, type CommandResult, DEFAULT_REBOOT, parseSystemToml } from '../../../../src/connect/system-services';

const T0 = new Date('2026-03-01T10:00:00Z');

describe('did the device reboot? (restart resumed after an agent restart)', () => {
  const marker = { cmdId: '1', requestedAt: T0 };
  const TABLE: ReadonlyArray<readonly [string, Parameters<typeof rebootOutcome>[0], Date | undefined, Outcome['status']]> = [
    ['marker gone: /run was cleared by a reboot', undefined, undefined, 'successful'],
    ['marker there, booted before it: only the agent restarted', marker, new Date(T0.getTime() - 60_000), 'failed'],
    ['marker there, boot time unknown', marker, undefined, 'failed'],
    ['marker there but booted after it (run.path survives reboots)', marker, new Date(T0.getTime() + 60_000), 'successful'],
    ['unreadable marker: still there', 'unreadable', new Date(T0.getTime() + 60_000), 'failed'],
  ];
  for (const [name, m, boot, status] of TABLE) {
    it(name, () => assert.equal(rebootOutcome(m, boot).status, status));
  }

  it('reads the boot time from /proc/stat', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tedge-btime-'));
    writeFileSync(join(dir, 'stat'), 'cpu 1 2 3\nbtime 1700000000\nprocesses 5\n');
    assert.deepEqual(systemBootTime(join(dir, 'stat')), new Date(1_700_000_000_000));
    assert.equal(systemBootTime(join(dir, 'missing')), undefined);
    rmSync(dir, { recursive: true });
  });
});

describe('the restart handler', () => {
  let runDir: string;
  let calls: Argv[];
  let markerAtReboot: boolean;
  let now: number;
  let slept: number[];
  let rebootResult: CommandResult | Error;

  function handler(systemToml = ''): RestartHandler {
    const deps: RestartDeps = {
      loadSystem: () => parseSystemToml(systemToml, 'system.toml'),
      runner: async (command) => {
        calls.push(command);
        if (command[0] === 'sync') return { exitCode: 0, stderr: '' };
        markerAtReboot = existsSync(markerPath(runDir));
        if (rebootResult instanceof Error) throw rebootResult;
        return rebootResult;
      },
      clock: { now: () => new Date(now) },
      bootTime: () => new Date(T0.getTime() - 3600_000),
      sleep: async (ms) => {
        slept.push(ms);
        now += ms;
      },
      isRoot: () => true,
    };
    return new RestartHandler(deps);
  }

  function run(signal = new AbortController().signal): CommandRun {
    const context: HandlerContext = {
      device: 'device/main//',
      configDir: '/nowhere',
      config: { string: (k) => (k === 'run.path' ? runDir : ''), text: () => undefined, number: () => 0, boolean: () => false, list: () => [] },
      capabilityChanged: () => {},
      reportError: () => {},
    };
    return { entity: 'device/main//', operation: 'restart', cmdId: '1', payload: { status: 'executing' }, log: () => {}, checkpoint: async () => {}, signal, context };
  }

  beforeEach(() => {
    runDir = mkdtempSync(join(tmpdir(), 'tedge-run-'));
    calls = [];
    markerAtReboot = false;
    now = T0.getTime();
    slept = [];
    rebootResult = { exitCode: 0, stderr: '' };
  });
  afterEach(() => rmSync(runDir, { recursive: true, force: true }));

  it('writes the marker (prepare), syncs, then runs the default reboot command, and fails if still alive after the timeout', async () => {
    const h = handler();
    await h.prepare(run());
    assert.equal(existsSync(markerPath(runDir)), true);
    const outcome = await h.execute(run());
    assert.deepEqual(calls, [['sync'], [...DEFAULT_REBOOT]]);
    assert.equal(markerAtReboot, true, 'the marker is written before the reboot');
    assert.deepEqual(slept, [120_000]);
    assert.deepEqual(outcome, { status: 'failed', reason: 'the device did not reboot within 120 s (reboot_timeout_seconds) after init 6' });
    assert.equal(existsSync(markerPath(runDir)), false);
  });

  it('takes the reboot command and timeout from system.toml', async () => {
    await handler('[system]\nreboot = ["/sbin/shutdown", "-r", "now"]\nreboot_timeout_seconds = 5\n').execute(run());
    assert.deepEqual(calls.at(-1), ['/sbin/shutdown', '-r', 'now']);
    assert.deepEqual(slept, [5000]);
  });

  it('fails at once when the reboot command fails or cannot be run', async () => {
    rebootResult = { exitCode: 1, stderr: 'init: must be superuser.\n' };
    assert.deepEqual(await handler().execute(run()), { status: 'failed', reason: 'the reboot command init 6 failed: exit code 1: init: must be superuser.' });
    rebootResult = Object.assign(new Error('spawn init ENOENT'), { code: 'ENOENT' });
    const outcome = await handler().execute(run());
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.status === 'failed' ? outcome.reason : '', /cannot run it: spawn init ENOENT/);
    assert.equal(existsSync(markerPath(runDir)), false);
  });

  it('removes the marker when system.toml is broken, failing with the file named', async () => {
    const h = handler('[system]\nreboot = "init 6"\n');
    await h.prepare(run());
    await assert.rejects(h.execute(run()), /system\.toml: \[system\] reboot must be a non-empty array/);
    assert.equal(existsSync(markerPath(runDir)), false);
  });

  it('stops waiting when the agent stops, leaving the marker for the next start', async () => {
    const controller = new AbortController();
    const h = new RestartHandler({ ...handlerDeps(), sleep: async () => controller.abort() });
    await h.prepare(run());
    await h.execute(run(controller.signal));
    assert.equal(existsSync(markerPath(runDir)), true);
  });

  it('resumes: successful without the marker, failed with it (and removes it)', async () => {
    assert.deepEqual(await handler().resume(run()), { status: 'successful' });
    writeMarker(runDir, { cmdId: '1', requestedAt: T0 });
    const outcome = await handler().resume(run());
    assert.equal(outcome.status, 'failed');
    assert.equal(readMarker(runDir), undefined);
  });

  function handlerDeps(): RestartDeps {
    return {
      loadSystem: () => parseSystemToml('', 'system.toml'),
      runner: async () => ({ exitCode: 0, stderr: '' }),
      clock: { now: () => new Date(now) },
      bootTime: () => undefined,
      sleep: async () => {},
      isRoot: () => true,
    };
  }
});
