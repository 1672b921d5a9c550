import type { FirmwareState } from './firmware-state';

/**
 * The pure decisions of firmware_update: given the persisted step and what the agent sees now
 * (did the asked-for reboot happen, which slot is booted, did the health gate pass), what to do next.
 * The handler only carries them out; tests hold them in tables.
 */

/** A reboot that never happens (the command failed, the agent was killed while waiting) is asked for again this often. */
export const MAX_REBOOT_ATTEMPTS = 3;

export interface BootFacts {
  /** The reboot asked for in this step happened (the marker under run.path is gone, or the system booted after it). */
  readonly rebooted: boolean;
  /** The slot the backend says is booted. */
  readonly booted: string;
}

export type Action =
  | { readonly kind: 'download' }
  | { readonly kind: 'install' }
  /** Ask for the reboot of `step` (the trial or the rollback reboot); `attempts` counts this one. */
  | { readonly kind: 'reboot'; readonly step: 'reboot' | 'rollback-reboot'; readonly attempts: number }
  | { readonly kind: 'health' }
  | { readonly kind: 'commit' }
  /** `mark-bad`, then the rollback reboot when the new slot is the one running. */
  | { readonly kind: 'rollback'; readonly reason: string; readonly reboot: boolean }
  | { readonly kind: 'fail'; readonly reason: string };

/** Whether `booted` is the slot the install wrote: that slot by name, or any slot but the old one when the backend did not name it. */
export function isTarget(state: Pick<FirmwareState, 'slotBefore' | 'targetSlot'>, booted: string): boolean {
  if (state.targetSlot !== undefined) return booted === state.targetSlot;
  return state.slotBefore !== undefined && booted !== state.slotBefore;
}

/** After an agent restart (or a reboot), what the command persisted in `state` goes on with. */
export function resumeAction(state: FirmwareState, facts: BootFacts): Action {
  const before = state.slotBefore ?? '?';
  switch (state.step) {
    case 'download':
      return { kind: 'download' };
    case 'install':
      // Killed while the backend wrote the slot: write it again, unless the device has meanwhile booted the half-written slot.
      if (state.slotBefore === undefined || facts.booted === state.slotBefore) return { kind: 'install' };
      return { kind: 'rollback', reason: `the install was interrupted and the device booted ${facts.booted}`, reboot: true };
    case 'reboot': {
      if (!facts.rebooted) {
        const attempts = (state.rebootAttempts ?? 1) + 1;
        if (attempts <= MAX_REBOOT_ATTEMPTS) return { kind: 'reboot', step: 'reboot', attempts };
        return { kind: 'rollback', reason: `the device did not reboot after ${MAX_REBOOT_ATTEMPTS} attempts; still running ${facts.booted}`, reboot: false };
      }
      if (isTarget(state, facts.booted)) return { kind: 'health' };
      return { kind: 'fail', reason: `the bootloader fell back to ${facts.booted}` };
    }
    case 'health':
      // The deadline was persisted when the gate began: a restart does not extend it.
      if (isTarget(state, facts.booted)) return { kind: 'health' };
      return { kind: 'fail', reason: `the device rebooted during the health check and the bootloader fell back to ${facts.booted}` };
    case 'commit':
      return { kind: 'commit' };
    case 'rollback':
      return { kind: 'rollback', reason: state.reason ?? 'rolled back', reboot: facts.booted !== state.slotBefore };
    case 'rollback-reboot': {
      const reason = state.reason ?? 'rolled back';
      if (facts.booted === state.slotBefore) return { kind: 'fail', reason: `${reason}; rolled back to ${before}` };
      if (!facts.rebooted) {
        const attempts = (state.rebootAttempts ?? 1) + 1;
        if (attempts <= MAX_REBOOT_ATTEMPTS) return { kind: 'reboot', step: 'rollback-reboot', attempts };
        return { kind: 'fail', reason: `${reason}; the device did not reboot to roll back: ${before} boots at the next reboot` };
      }
      return { kind: 'fail', reason: `${reason}; after the rollback reboot the device still runs ${facts.booted}` };
    }
  }
}

export type GateResult =
  | { readonly kind: 'healthy' }
  | { readonly kind: 'unhealthy'; readonly missing: readonly string[]; readonly timeoutS: number }
  | { readonly kind: 'verify-failed'; readonly detail: string };

/** After the health gate on the new slot: commit, or roll back with the reason the command will end with. */
export function gateAction(result: GateResult): Action {
  switch (result.kind) {
    case 'healthy':
      return { kind: 'commit' };
    case 'unhealthy':
      return { kind: 'rollback', reason: `health check failed: ${result.missing.join(', ')} not up within ${result.timeoutS} s (firmware.health_timeout)`, reboot: true };
    case 'verify-failed':
      return { kind: 'rollback', reason: `firmware.verify failed: ${result.detail}`, reboot: true };
  }
}

/** The steps a workflow runs as `builtin:firmware_update:<step>`; `reboot` is the trial reboot, `rollback` ends the command failed. */
export const FIRMWARE_STEPS = ['download', 'install', 'reboot', 'health', 'commit', 'rollback'] as const;
export type FirmwareStepName = (typeof FIRMWARE_STEPS)[number];

/** The workflow step a persisted step belongs to: the one to resume after a restart. */
export function stepOf(step: FirmwareState['step']): FirmwareStepName {
  return step === 'rollback-reboot' ? 'rollback' : step;
}

/** The step an action belongs to; `fail` to none (it ends a step with an error, or the rollback step). */
export function stepOfAction(a: Action): FirmwareStepName | undefined {
  switch (a.kind) {
    case 'reboot':
      return a.step === 'reboot' ? 'reboot' : 'rollback';
    case 'fail':
      return undefined;
    default:
      return a.kind;
  }
}

export type StepEnd =
  /** The step is done: the workflow's on_success (the next step, in the shipped file). */
  | { readonly kind: 'next-step' }
  /** The step failed: on_error (rollback, in the shipped file), with the reason persisted. */
  | { readonly kind: 'step-failed'; readonly reason: string }
  /** The rollback step is over: the command's failure, with its reason (a success of the step). */
  | { readonly kind: 'command-failed'; readonly reason: string };

/** How a step ends when the next action belongs to another step. */
export function stepEnd(step: FirmwareStepName, next: Action): StepEnd {
  if (next.kind === 'fail') return step === 'rollback' ? { kind: 'command-failed', reason: next.reason } : { kind: 'step-failed', reason: next.reason };
  if (next.kind === 'rollback') return { kind: 'step-failed', reason: next.reason };
  return { kind: 'next-step' };
}

/** The rollback step entered afresh: nothing installed (no slot recorded) ends at once; else mark-bad, and the reboot when the new slot runs. */
export function rollbackStart(state: Pick<FirmwareState, 'slotBefore'>, reason: string, booted: string): Action {
  if (state.slotBefore === undefined) return { kind: 'fail', reason };
  return { kind: 'rollback', reason, reboot: booted !== state.slotBefore };
}
