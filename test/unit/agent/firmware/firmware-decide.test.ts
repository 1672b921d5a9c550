import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Action, type BootFacts, FIRMWARE_STEPS, type FirmwareStepName, MAX_REBOOT_ATTEMPTS, type StepEnd, gateAction, isTarget, resumeAction, rollbackStart, stepEnd, stepOf, stepOfAction } from '../../../../src/agent/operations/firmware/firmware-decide';
import type { FirmwareState } from '../../../../src/agent/operations/firmware/firmware-state';
import { parseRequest, readState, stateUpdate } from '../../../../src/agent/operations/firmware/firmware-state';
import { isUp, requiredServices } from '../../../../src/agent/operations/firmware/health-gate';
import { spaceLimit, FREE_SPACE_RESERVE } from '../../../../src/agent/operations/firmware/image';
import { lastLine, parseArgv } from '../../../../src/agent/operations/firmware/backend';

const AB = { slotBefore: 'A', targetSlot: 'B' } as const;

/** [what, persisted state, facts after the restart, expected action] */
const RESUME: Array<[string, FirmwareState, BootFacts, Action]> = [
  ['download: resumed', { step: 'download' }, { rebooted: false, booted: 'A' }, { kind: 'download' }],
  ['install, same slot: installed again', { step: 'install', slotBefore: 'A' }, { rebooted: false, booted: 'A' }, { kind: 'install' }],
  ['install, booted elsewhere (power cut): rolled back', { step: 'install', slotBefore: 'A' }, { rebooted: false, booted: 'B' }, { kind: 'rollback', reason: 'the install was interrupted and the device booted B', reboot: true }],
  ['reboot happened, target booted: health gate', { step: 'reboot', ...AB }, { rebooted: true, booted: 'B' }, { kind: 'health' }],
  ['reboot happened, old slot booted: fallback', { step: 'reboot', ...AB }, { rebooted: true, booted: 'A' }, { kind: 'fail', reason: 'the bootloader fell back to A' }],
  ['reboot happened, target unnamed, other slot booted', { step: 'reboot', slotBefore: 'A' }, { rebooted: true, booted: 'B' }, { kind: 'health' }],
  ['only the agent restarted: reboot again', { step: 'reboot', ...AB, rebootAttempts: 1 }, { rebooted: false, booted: 'A' }, { kind: 'reboot', step: 'reboot', attempts: 2 }],
  ['no reboot after the last attempt: rollback without reboot', { step: 'reboot', ...AB, rebootAttempts: MAX_REBOOT_ATTEMPTS }, { rebooted: false, booted: 'A' }, { kind: 'rollback', reason: `the device did not reboot after ${MAX_REBOOT_ATTEMPTS} attempts; still running A`, reboot: false }],
  ['health, still on target: the gate goes on', { step: 'health', ...AB, healthDeadline: '2026-01-01T00:00:00Z' }, { rebooted: false, booted: 'B' }, { kind: 'health' }],
  ['health, fell back meanwhile', { step: 'health', ...AB }, { rebooted: false, booted: 'A' }, { kind: 'fail', reason: 'the device rebooted during the health check and the bootloader fell back to A' }],
  ['commit: mark-good again', { step: 'commit', ...AB }, { rebooted: false, booted: 'B' }, { kind: 'commit' }],
  ['rollback on the new slot: mark-bad and reboot', { step: 'rollback', ...AB, reason: 'x' }, { rebooted: false, booted: 'B' }, { kind: 'rollback', reason: 'x', reboot: true }],
  ['rollback on the old slot: mark-bad only', { step: 'rollback', ...AB, reason: 'x' }, { rebooted: false, booted: 'A' }, { kind: 'rollback', reason: 'x', reboot: false }],
  ['rollback reboot done, old slot: failed with the reason', { step: 'rollback-reboot', ...AB, reason: 'x' }, { rebooted: true, booted: 'A' }, { kind: 'fail', reason: 'x; rolled back to A' }],
  ['rollback reboot not done: again', { step: 'rollback-reboot', ...AB, reason: 'x', rebootAttempts: 1 }, { rebooted: false, booted: 'B' }, { kind: 'reboot', step: 'rollback-reboot', attempts: 2 }],
  ['rollback reboot never happens', { step: 'rollback-reboot', ...AB, reason: 'x', rebootAttempts: 3 }, { rebooted: false, booted: 'B' }, { kind: 'fail', reason: 'x; the device did not reboot to roll back: A boots at the next reboot' }],
  ['rollback reboot done, still new slot', { step: 'rollback-reboot', ...AB, reason: 'x' }, { rebooted: true, booted: 'B' }, { kind: 'fail', reason: 'x; after the rollback reboot the device still runs B' }],
];

describe('firmware_update decisions', () => {
  for (const [what, state, facts, expected] of RESUME) {
    it(`resume: ${what}`, () => assert.deepEqual(resumeAction(state, facts), expected));
  }

  it('after the gate: commit, or roll back with the reason', () => {
    assert.deepEqual(gateAction({ kind: 'healthy' }), { kind: 'commit' });
    assert.deepEqual(gateAction({ kind: 'unhealthy', missing: ['tedge-mapper-c8y'], timeoutS: 5 }), {
      kind: 'rollback',
      reason: 'health check failed: tedge-mapper-c8y not up within 5 s (firmware.health_timeout)',
      reboot: true,
    });
    assert.deepEqual(gateAction({ kind: 'verify-failed', detail: 'check: exit status 2' }), { kind: 'rollback', reason: 'firmware.verify failed: check: exit status 2', reboot: true });
  });

  it('target slot: by name, or any slot but the old one', () => {
    assert.equal(isTarget({ slotBefore: 'A', targetSlot: 'B' }, 'B'), true);
    assert.equal(isTarget({ slotBefore: 'A', targetSlot: 'B' }, 'C'), false);
    assert.equal(isTarget({ slotBefore: 'A' }, 'C'), true);
    assert.equal(isTarget({}, 'A'), false);
  });

  it('state round-trips through the payload', () => {
    const s: FirmwareState = { step: 'health', file: '/tmp/x', slotBefore: 'A', targetSlot: 'B', rebootAttempts: 2, healthDeadline: 'd', rebootRequestedAt: 'r', reason: 'why' };
    assert.deepEqual(readState(stateUpdate(s)), s);
    assert.equal(readState({ firmwareUpdate: { step: 'bogus' } }), undefined);
    assert.equal(readState({}), undefined);
  });

  it('request: tedgeUrl first for the download, the cloud URL for the twin, sha256 checked', () => {
    assert.deepEqual(parseRequest({ name: 'os', version: '2', tedgeUrl: 'http://l/f', remoteUrl: 'https://c/f' }), { name: 'os', version: '2', url: 'http://l/f', sourceUrl: 'https://c/f' });
    assert.deepEqual(parseRequest({ name: 'os', version: '2', url: 'http://x', sha256: 'A'.repeat(64) }), { name: 'os', version: '2', url: 'http://x', sourceUrl: 'http://x', sha256: 'a'.repeat(64) });
    assert.throws(() => parseRequest({ name: 'os', version: '2' }), /no "tedgeUrl"/);
    assert.throws(() => parseRequest({ name: '--evil', version: '2', url: 'u' }), /must not start with '-'/);
    assert.throws(() => parseRequest({ name: 'os', version: '2', url: 'u', sha256: 'zz' }), /64 hex/);
  });
});

describe('firmware health gate', () => {
  const config = (values: Record<string, string>) => ({
    string: (k: string) => values[k] ?? '',
    text: (k: string) => values[k],
    number: () => 0,
    boolean: (k: string) => values[k] !== 'false',
    list: () => [],
  });

  it('the agent, and per configured cloud its mapper and bridge', () => {
    const none = requiredServices({ device: 'device/main//', config: config({}) }, 'te', 42);
    assert.deepEqual(none, [{ name: 'tedge-agent', topic: 'te/device/main/service/tedge-agent/status/health', pid: 42 }]);
    const c8y = requiredServices({ device: 'device/main//', config: config({ 'c8y.url': 'x.example', 'c8y.bridge.topic_prefix': 'c8y' }) }, 'te', 42);
    assert.deepEqual(c8y.map((s) => s.name), ['tedge-agent', 'tedge-mapper-c8y', 'tedge-mapper-bridge-c8y']);
    const mosq = requiredServices({ device: 'device/main//', config: config({ 'c8y.url': 'x', 'c8y.bridge.topic_prefix': 'c8y', 'mqtt.bridge.built_in': 'false' }) }, 'te', 42);
    assert.deepEqual(mosq[2], { name: 'mosquitto-c8y-bridge', topic: 'te/device/main/service/mosquitto-c8y-bridge/status/health', mosquittoBridge: true });
    const child = requiredServices({ device: 'device/child1//', config: config({ 'c8y.url': 'x' }) }, 'te', 7);
    assert.deepEqual(child.map((s) => s.topic), ['te/device/child1/service/tedge-agent/status/health']);
  });

  it('cloud profiles: each profile with a url has its mapper tedge-mapper-c8y@<name> and its own bridge', () => {
    const values: Record<string, string> = {
      'c8y.url': 'a.example',
      'c8y.bridge.topic_prefix': 'c8y',
      'c8y.profiles.second.url': 'b.example',
      'c8y.profiles.second.bridge.topic_prefix': 'c8y-second',
      'c8y.profiles.nourl.bridge.topic_prefix': 'c8y-nourl',
    };
    // A profile's view reads `c8y.<rest>` from `c8y.profiles.<name>.<rest>`, as TedgeConfig.forCloud does.
    const view = (profile: string) => {
      const map: Record<string, string> = {};
      for (const [k, v] of Object.entries(values)) {
        const m = /^c8y\.profiles\.([^.]+)\.(.+)$/.exec(k);
        if (m?.[1] === profile) map[`c8y.${m[2]}`] = v;
      }
      return config(map);
    };
    const ctx = (builtIn: string) => {
      values['mqtt.bridge.built_in'] = builtIn;
      return { ...config(values), profiles: (cloud: string) => (cloud === 'c8y' ? ['nourl', 'second'] : []), forCloud: (_cloud: string, profile: string) => view(profile) };
    };
    const gate = requiredServices({ device: 'device/main//', config: ctx('true') }, 'te', 42);
    assert.deepEqual(
      gate.map((s) => s.topic),
      [
        'te/device/main/service/tedge-agent/status/health',
        'te/device/main/service/tedge-mapper-c8y/status/health',
        'te/device/main/service/tedge-mapper-bridge-c8y/status/health',
        'te/device/main/service/tedge-mapper-c8y@second/status/health',
        'te/device/main/service/tedge-mapper-bridge-c8y-second/status/health',
      ],
    );
    const mosq = requiredServices({ device: 'device/main//', config: ctx('false') }, 'te', 42);
    assert.deepEqual(mosq[4], { name: 'mosquitto-c8y-second-bridge', topic: 'te/device/main/service/mosquitto-c8y-second-bridge/status/health', mosquittoBridge: true });
  });

  it('up in this boot: our pid for the agent, not older than the reboot for others', () => {
    const agent = { name: 'tedge-agent', topic: 't', pid: 42 };
    const mapper = { name: 'm', topic: 't' };
    const since = new Date('2026-01-01T00:00:10.500Z');
    assert.equal(isUp(agent, '{"status":"up","pid":42}', since), true);
    assert.equal(isUp(agent, '{"status":"up","pid":41}', since), false);
    assert.equal(isUp(mapper, '{"status":"up","time":1767225610}', since), true);
    assert.equal(isUp(mapper, '{"status":"up","time":1767225609}', since), false);
    assert.equal(isUp(mapper, '{"status":"up","time":"2026-01-01T00:00:11Z"}', since), true);
    assert.equal(isUp(mapper, '{"status":"up"}', since), true);
    assert.equal(isUp(mapper, '{"status":"down"}', since), false);
    assert.equal(isUp(mapper, '', since), false);
    assert.equal(isUp({ name: 'b', topic: 't', mosquittoBridge: true }, '1', since), true);
    assert.equal(isUp({ name: 'b', topic: 't', mosquittoBridge: true }, '0', since), false);
  });
});

describe('firmware helpers', () => {
  it('space limit keeps a reserve and counts the partial download', () => {
    assert.equal(spaceLimit(FREE_SPACE_RESERVE + 100, 50), 150);
    assert.equal(spaceLimit(10, 0), 0);
  });
  it('verify argv and backend output', () => {
    assert.deepEqual(parseArgv('/bin/check --strict  x'), ['/bin/check', '--strict', 'x']);
    assert.deepEqual(parseArgv('["/bin/check", "a b"]'), ['/bin/check', 'a b']);
    assert.throws(() => parseArgv('[1]'));
    assert.equal(lastLine('log\nB\n\n'), 'B');
    assert.equal(lastLine(''), undefined);
  });
});

describe('firmware_update as workflow steps (builtin:firmware_update:<step>)', () => {
  it('each persisted step is resumed by its workflow step; the rollback reboot by rollback', () => {
    assert.deepEqual(
      (['download', 'install', 'reboot', 'health', 'commit', 'rollback', 'rollback-reboot'] as const).map(stepOf),
      ['download', 'install', 'reboot', 'health', 'commit', 'rollback', 'rollback'],
    );
    assert.ok(FIRMWARE_STEPS.every((s) => stepOf(s) === s));
  });

  it('actions belong to steps: the trial reboot to reboot, the rollback reboot to rollback, fail to none', () => {
    assert.equal(stepOfAction({ kind: 'reboot', step: 'reboot', attempts: 1 }), 'reboot');
    assert.equal(stepOfAction({ kind: 'reboot', step: 'rollback-reboot', attempts: 2 }), 'rollback');
    assert.equal(stepOfAction({ kind: 'rollback', reason: 'r', reboot: true }), 'rollback');
    assert.equal(stepOfAction({ kind: 'fail', reason: 'r' }), undefined);
    assert.equal(stepOfAction({ kind: 'health' }), 'health');
  });

  /** [step, the next action, how the step ends] */
  const ENDS: Array<[FirmwareStepName, Action, StepEnd]> = [
    ['download', { kind: 'install' }, { kind: 'next-step' }],
    ['install', { kind: 'reboot', step: 'reboot', attempts: 1 }, { kind: 'next-step' }],
    ['reboot', { kind: 'health' }, { kind: 'next-step' }],
    ['reboot', { kind: 'fail', reason: 'the bootloader fell back to A' }, { kind: 'step-failed', reason: 'the bootloader fell back to A' }],
    ['reboot', { kind: 'rollback', reason: 'no reboot', reboot: false }, { kind: 'step-failed', reason: 'no reboot' }],
    ['health', { kind: 'commit' }, { kind: 'next-step' }],
    ['health', { kind: 'rollback', reason: 'unhealthy', reboot: true }, { kind: 'step-failed', reason: 'unhealthy' }],
    ['commit', { kind: 'rollback', reason: 'mark-good failed', reboot: true }, { kind: 'step-failed', reason: 'mark-good failed' }],
    ['rollback', { kind: 'fail', reason: 'x; rolled back to A' }, { kind: 'command-failed', reason: 'x; rolled back to A' }],
  ];
  for (const [step, next, want] of ENDS) {
    it(`${step} → ${next.kind}: ${want.kind}`, () => assert.deepEqual(stepEnd(step, next), want));
  }

  it('a fresh rollback: nothing installed ends at once; on the new slot mark-bad and reboot; on the old slot mark-bad only', () => {
    assert.deepEqual(rollbackStart({}, 'sha256 mismatch', ''), { kind: 'fail', reason: 'sha256 mismatch' });
    assert.deepEqual(rollbackStart({ slotBefore: 'A' }, 'unhealthy', 'B'), { kind: 'rollback', reason: 'unhealthy', reboot: true });
    assert.deepEqual(rollbackStart({ slotBefore: 'A' }, 'fell back', 'A'), { kind: 'rollback', reason: 'fell back', reboot: false });
  });
});
