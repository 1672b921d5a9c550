import { rm } from 'node:fs/promises';
import type { Clock } from '../../../core/clock';
import { durationMs } from '../../../config/value-types';
import { errorMessage } from '../../../core/errors';
import type { JsonObject } from '../../../core/json';
import { topicFor } from '../../../core/topics';
import { systemClock } from '../../../runtime/system-clock';
import { clientTls } from '../../transfer/client-tls';
import { downloadFile } from '../../transfer/download';
import type { CommandRun, HandlerContext, OperationHandler, Outcome, StepResult } from '../operation';
import { type RestartHandler, rebootOutcome, systemRestartHandler } from '../restart/restart-handler';
import { readMarker, removeMarker, systemBootTime } from '../restart/reboot-marker';
import { type FirmwareBackend, type ProcessCall, lastLine, parseArgv, processBackend, runTool } from './backend';
import { type Action, type BootFacts, FIRMWARE_STEPS, type FirmwareStepName, type GateResult, gateAction, resumeAction, rollbackStart, stepEnd, stepOf, stepOfAction } from './firmware-decide';
import { type FirmwareBus, mqttFirmwareBus } from './firmware-bus';
import { type FirmwareRequest, type FirmwareState, parseRequest, readState, stateUpdate } from './firmware-state';
import { requiredServices } from './health-gate';
import { type DownloadFn, fetchImage, imagePath } from './image';

export interface FirmwareDeps {
  readonly download: DownloadFn;
  /** The restart operation's reboot: marker under run.path, sync, system.toml's reboot command, its timeout. */
  readonly restart: RestartHandler;
  readonly backend: (path: string, call: ProcessCall) => FirmwareBackend;
  readonly bus: (ctx: HandlerContext) => FirmwareBus;
  readonly clock: Clock;
  readonly bootTime: () => Date | undefined;
  /** This process: the agent's own health status must carry it. */
  readonly pid: number;
}

/** Dropped by the executor (the agent is stopping); the persisted step is resumed at the next start. */
const STOPPING: Outcome = { status: 'failed', reason: 'the agent stopped during the firmware update' };

/**
 * firmware_update, built in, over the backend named by firmware.backend (backend.ts): download (resumed,
 * sha256 checked, bounded by the free space) → install into the inactive slot → trial reboot → on the new
 * slot the health gate (agent, mappers, bridges up within firmware.health_timeout; firmware.verify exits
 * 0) → mark-good → `successful` and twin `firmware`; otherwise mark-bad → reboot → `failed`, on the old
 * slot. Each step is persisted in the payload before its effect (firmware-state.ts); after any restart
 * firmware-decide.ts says how to go on.
 */
export class FirmwareUpdateHandler implements OperationHandler {
  readonly operation = 'firmware_update';

  constructor(private readonly deps: FirmwareDeps) {}

  async capability(ctx: HandlerContext): Promise<JsonObject | undefined> {
    return backendPath(ctx) === undefined ? undefined : {};
  }

  /** The steps of the shipped workflow (packaging/operations/firmware_update.toml), each `builtin:firmware_update:<step>`. */
  readonly steps = FIRMWARE_STEPS;

  async execute(run: CommandRun): Promise<Outcome> {
    const ready = this.begin(run);
    if ('status' in ready) return ready;
    return ended(await this.drive(run, ready.request, ready.backend, { step: 'download' }, { kind: 'download' }));
  }

  /**
   * One step as a workflow state: the same actions as the whole operation, stopped where the next action
   * belongs to another step. A failure persists its reason, for the `rollback` step to end with.
   */
  async runStep(step: string, run: CommandRun, resumed: boolean): Promise<StepResult> {
    const kind = FIRMWARE_STEPS.find((s) => s === step);
    if (kind === undefined) return { ok: false, reason: `no firmware_update step '${step}' (${FIRMWARE_STEPS.join(', ')})` };
    const ready = this.begin(run);
    if ('status' in ready) return { ok: false, reason: ready.status === 'failed' ? ready.reason : 'not started' };
    const saved = readState(run.payload);
    let start: { state: FirmwareState; action: Action };
    if (resumed && saved !== undefined && stepOf(saved.step) === kind) {
      const facts = await this.bootFacts(run, ready.backend, saved);
      if (typeof facts === 'string') return { ok: false, reason: facts };
      start = { state: saved, action: resumeAction(saved, facts) };
    } else {
      const first = await this.firstAction(kind, run, ready.backend, saved ?? { step: 'download' });
      if (typeof first === 'string') return { ok: false, reason: first };
      start = { state: saved ?? { step: 'download' }, action: first };
    }
    const end = await this.drive(run, ready.request, ready.backend, start.state, start.action, (a) => stepOfAction(a) === kind);
    if ('outcome' in end) {
      if (end.outcome.status === 'successful') return { ok: true, json: stateUpdate(end.state) };
      // The rollback step's end is the command's failure, with its reason: a success of the step.
      if (kind === 'rollback' && !run.signal.aborted) return { ok: true, json: { ...stateUpdate(end.state), reason: end.outcome.reason } };
      return { ok: false, reason: end.outcome.reason, json: stateUpdate({ ...end.state, reason: end.outcome.reason }) };
    }
    const stop = stepEnd(kind, end.next);
    switch (stop.kind) {
      case 'next-step':
        return { ok: true, json: stateUpdate(end.state) };
      case 'command-failed':
        return { ok: true, json: { ...stateUpdate(end.state), reason: stop.reason } };
      case 'step-failed': {
        // Persisted at once: the rollback step (or the next process) ends the command with this reason.
        const state = { ...end.state, reason: stop.reason };
        await run.checkpoint(stateUpdate(state));
        return { ok: false, reason: stop.reason, json: stateUpdate(state) };
      }
    }
  }

  /** A step entered afresh (the workflow moved to it, or the agent stopped before the step saved anything). */
  private async firstAction(step: FirmwareStepName, run: CommandRun, backend: FirmwareBackend, state: FirmwareState): Promise<Action | string> {
    switch (step) {
      case 'download':
        return { kind: 'download' };
      case 'install':
        return { kind: 'install' };
      case 'reboot':
        return { kind: 'reboot', step: 'reboot', attempts: 1 };
      case 'health':
        return { kind: 'health' };
      case 'commit':
        return { kind: 'commit' };
      case 'rollback': {
        const reason = state.reason ?? (typeof run.payload['reason'] === 'string' ? run.payload['reason'] : 'rolled back');
        // Nothing was installed (the download failed): no backend call at all.
        if (state.slotBefore === undefined) return rollbackStart(state, reason, '');
        const booted = await backend.bootedSlot();
        if (!booted.ok) return `cannot tell the booted slot: ${booted.reason}`;
        return rollbackStart(state, reason, lastLine(booted.output) ?? '');
      }
    }
  }

  async resume(run: CommandRun): Promise<Outcome> {
    const ready = this.begin(run);
    if ('status' in ready) return ready;
    const state = readState(run.payload);
    // Killed before the first step was persisted, or while downloading: nothing was installed yet.
    if (state === undefined || state.step === 'download') return ended(await this.drive(run, ready.request, ready.backend, state ?? { step: 'download' }, { kind: 'download' }));
    const facts = await this.bootFacts(run, ready.backend, state);
    if (typeof facts === 'string') return this.fail(run, facts);
    return ended(await this.drive(run, ready.request, ready.backend, state, resumeAction(state, facts)));
  }

  /** After a restart: did the reboot asked for in `state` happen (its marker under run.path), which slot runs. */
  private async bootFacts(run: CommandRun, backend: FirmwareBackend, state: FirmwareState): Promise<BootFacts | string> {
    let rebooted = false;
    if (state.step === 'reboot' || state.step === 'rollback-reboot') {
      const runDir = run.context.config.string('run.path');
      rebooted = rebootOutcome(readMarker(runDir), this.deps.bootTime()).status === 'successful';
      removeMarker(runDir);
      run.log(rebooted ? 'the device rebooted' : 'the reboot marker is still there: only the agent restarted');
    }
    const booted = await backend.bootedSlot();
    if (!booted.ok) return `cannot tell the booted slot: ${booted.reason}`;
    const slot = lastLine(booted.output) ?? '';
    run.log(`resuming step '${state.step}': booted slot ${slot}`);
    return { rebooted, booted: slot };
  }

  private begin(run: CommandRun): { request: FirmwareRequest; backend: FirmwareBackend } | Outcome {
    const path = backendPath(run.context);
    if (path === undefined) return { status: 'failed', reason: 'no firmware backend is configured (firmware.backend)' };
    try {
      const request = parseRequest(run.payload);
      return { request, backend: this.deps.backend(path, { ctx: run.context, signal: run.signal, log: (l) => run.log(l) }) };
    } catch (err) {
      return { status: 'failed', reason: `Invalid firmware_update request: ${errorMessage(err)}` };
    }
  }

  /**
   * Carries out `action` and those that follow from it until the command ends, or, with `within`, until
   * the next action is not one of the step's: then that action is returned with the state so far.
   */
  private async drive(run: CommandRun, req: FirmwareRequest, backend: FirmwareBackend, start: FirmwareState, first: Action, within?: (a: Action) => boolean): Promise<Driven> {
    let state = start;
    let action = first;
    const save = async (next: FirmwareState): Promise<void> => {
      state = next;
      await run.checkpoint(stateUpdate(state));
    };
    const end = (outcome: Outcome): Driven => ({ outcome, state });
    const fail = async (reason: string, file?: string): Promise<Driven> => end(await this.fail(run, reason, file));
    for (;;) {
      if (run.signal.aborted) return end(STOPPING);
      if (within !== undefined && !within(action)) return { next: action, state };
      run.log(`firmware: ${action.kind}`);
      switch (action.kind) {
        case 'download': {
          const file = state.file ?? imagePath(run.context.config.string('tmp.path'), run.cmdId);
          await save({ step: 'download', file });
          try {
            const tls = clientTls(run.context.config);
            await fetchImage(this.deps.download, req, file, { signal: run.signal, log: (l) => run.log(l), ...(tls ? { tls } : {}) });
          } catch (err) {
            if (run.signal.aborted) return end(STOPPING);
            return fail(errorMessage(err), file);
          }
          action = { kind: 'install' };
          break;
        }
        case 'install': {
          const file = state.file ?? imagePath(run.context.config.string('tmp.path'), run.cmdId);
          let before = state.slotBefore;
          if (before === undefined) {
            const booted = await backend.bootedSlot();
            if (!booted.ok) return fail(`cannot tell the booted slot: ${booted.reason}`, file);
            before = lastLine(booted.output) ?? '';
          }
          await save({ step: 'install', file, slotBefore: before });
          const installed = await backend.install(file, req.name, req.version);
          if (run.signal.aborted) return end(STOPPING);
          if (!installed.ok) return fail(`the firmware backend could not install ${req.name} ${req.version}: ${installed.reason}`, file);
          await rm(file, { force: true });
          const target = lastLine(installed.output);
          state = { ...state, ...(target !== undefined && target !== before ? { targetSlot: target } : {}) };
          action = { kind: 'reboot', step: 'reboot', attempts: 1 };
          break;
        }
        case 'reboot': {
          await save({ ...state, step: action.step, rebootAttempts: action.attempts, rebootRequestedAt: this.deps.clock.now().toISOString() });
          await this.deps.restart.prepare(run);
          const outcome = await this.deps.restart.execute(run);
          if (run.signal.aborted) return end(STOPPING);
          // Still here: the reboot command failed or the device did not go down within reboot_timeout_seconds.
          const why = outcome.status === 'failed' ? outcome.reason : 'the device did not reboot';
          if (action.step === 'rollback-reboot') return fail(`${state.reason ?? 'rolled back'}; the rollback reboot failed: ${why}`);
          action = { kind: 'rollback', reason: `the trial reboot failed: ${why}`, reboot: false };
          break;
        }
        case 'health': {
          const timeoutMs = durationMs(run.context.config.string('firmware.health_timeout'));
          const deadline = state.healthDeadline ?? new Date(this.deps.clock.now().getTime() + timeoutMs).toISOString();
          await save({ ...state, step: 'health', healthDeadline: deadline });
          const gate = await this.healthGate(run, state, new Date(deadline), Math.round(timeoutMs / 1000));
          if (run.signal.aborted) return end(STOPPING);
          action = gateAction(gate);
          break;
        }
        case 'commit': {
          await save({ ...state, step: 'commit' });
          const good = await backend.markGood();
          if (run.signal.aborted) return end(STOPPING);
          if (!good.ok) {
            action = { kind: 'rollback', reason: `mark-good failed: ${good.reason}`, reboot: true };
            break;
          }
          const twin = topicFor(run.entity, { kind: 'twin', fragment: 'firmware' }, run.context.config.string('mqtt.topic_root'));
          try {
            await this.deps.bus(run.context).publishRetained(twin, JSON.stringify({ name: req.name, version: req.version, url: req.sourceUrl }));
          } catch (err) {
            // Committed all the same: the device runs the new firmware; only its report is missing.
            run.log(`warning: cannot publish ${twin}: ${errorMessage(err)}`);
          }
          run.log(`committed ${req.name} ${req.version} on slot ${state.targetSlot ?? '(new)'}`);
          return end({ status: 'successful' });
        }
        case 'rollback': {
          await save({ ...state, step: 'rollback', reason: action.reason });
          const bad = await backend.markBad();
          if (run.signal.aborted) return end(STOPPING);
          // Without mark-bad the trial boot was for one boot only: the rollback reboot still returns to the old slot.
          if (!bad.ok) run.log(`warning: mark-bad failed: ${bad.reason}`);
          if (!action.reboot) return fail(action.reason);
          action = { kind: 'reboot', step: 'rollback-reboot', attempts: 1 };
          break;
        }
        case 'fail':
          return fail(action.reason, state.file);
      }
    }
  }

  /** The services of requiredServices() up (in this boot) before the deadline, then firmware.verify. */
  private async healthGate(run: CommandRun, state: FirmwareState, deadline: Date, timeoutS: number): Promise<GateResult> {
    const ctx = run.context;
    const services = requiredServices(ctx, ctx.config.string('mqtt.topic_root'), this.deps.pid);
    run.log(`health gate: waiting until ${deadline.toISOString()} for ${services.map((s) => s.name).join(', ')}`);
    const since = state.rebootRequestedAt === undefined ? undefined : new Date(state.rebootRequestedAt);
    let missing: string[];
    try {
      missing = await this.deps.bus(ctx).waitForHealth(services, since, deadline, run.signal);
    } catch (err) {
      return { kind: 'unhealthy', missing: [`the local broker (${errorMessage(err)})`], timeoutS };
    }
    if (missing.length > 0) return { kind: 'unhealthy', missing, timeoutS };
    const verify = ctx.config.text('firmware.verify');
    if (verify === undefined || verify.trim() === '') return { kind: 'healthy' };
    let argv: string[];
    try {
      argv = parseArgv(verify);
    } catch (err) {
      return { kind: 'verify-failed', detail: errorMessage(err) };
    }
    const [program = '', ...args] = argv;
    const r = await runTool(program, args, { ctx, signal: run.signal, log: (l) => run.log(l) });
    return r.ok ? { kind: 'healthy' } : { kind: 'verify-failed', detail: r.reason };
  }

  private async fail(run: CommandRun, reason: string, file?: string): Promise<Outcome> {
    if (file !== undefined) {
      await rm(file, { force: true });
      await rm(`${file}.part`, { force: true });
      await rm(`${file}.part.meta`, { force: true });
    }
    run.log(`firmware update failed: ${reason}`);
    return { status: 'failed', reason };
  }
}

/** Where `drive` stopped: the command's end, or the first action of another step. */
type Driven = { readonly outcome: Outcome; readonly state: FirmwareState } | { readonly next: Action; readonly state: FirmwareState };

function ended(d: Driven): Outcome {
  // Without a step boundary drive runs to the end: `next` cannot happen.
  return 'outcome' in d ? d.outcome : { status: 'failed', reason: `stopped before ${d.next.kind}` };
}

function backendPath(ctx: HandlerContext): string | undefined {
  const path = ctx.config.text('firmware.backend');
  return path === undefined || path.trim() === '' ? undefined : path;
}

/** The handler of a running agent: the real downloader, reboot, backend process and broker. */
export function systemFirmwareHandler(): FirmwareUpdateHandler {
  return new FirmwareUpdateHandler({
    download: downloadFile,
    restart: systemRestartHandler(),
    backend: processBackend,
    bus: mqttFirmwareBus,
    clock: systemClock,
    bootTime: () => systemBootTime(),
    pid: process.pid,
  });
}
