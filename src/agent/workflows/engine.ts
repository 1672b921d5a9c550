import { join } from 'node:path';
import { errorMessage } from '../../core/errors';
import { type JsonObject, type JsonValue, isJsonObject } from '../../core/json';
import { parseTopic, topicFor } from '../../core/topics';
import { AGENT_RESTARTED_REASON } from '../operations/command-transitions';
import type { CommandRun, OperationHandler, Outcome, StepResult } from '../operations/operation';
import type { Action, State, Workflow } from './model';
import { actionUpdate, awaitUpdate, inject, iterateUpdate, scriptOutput, scriptUpdate } from './outcomes';
import { launchBackground, runScript } from './script-runner';
import { ShellWordsError, splitShellWords } from './shell-words';
import { type CommandView, evaluate, extract, substitute } from './template';

export interface EngineDeps {
  /** The agent's own implementations, for `builtin:<op>` and the deprecated `action = "builtin"`. */
  readonly builtins: ReadonlyMap<string, OperationHandler>;
  readonly download: (url: string, dest: string, opts: { signal: AbortSignal; log: (line: string) => void }) => Promise<void>;
  /** The `upload` action's HTTP PUT of a local file. */
  readonly upload?: (url: string, path: string, opts: { signal: AbortSignal; log: (line: string) => void }) => Promise<void>;
  readonly topicRoot: string;
  /** How long a resumed await-operation-completion waits to hear of a sub-operation it never saw. */
  readonly lostSubCommandMs?: number;
}

/** How long `await-agent-restart` waits when its state and file give no timeout_second (thin-edge: 0 + 60 s). */
export const DEFAULT_RESTART_WAIT_S = 60;

/** How long `restart-agent` waits for the agent to stop before it fails the command. */
const RESTART_GRACE_S = 60;

/** Why the loop stops without an outcome: the agent is stopping and the persisted state is taken up at the next start. */
const STOPPING: Outcome = { status: 'failed', reason: 'the agent is stopping' };

/**
 * Runs one command through a workflow: from its persisted state, one state after the other, each new
 * state advanced through the executor (persisted, then published) before its action runs, to a terminal
 * outcome. `resumed`: the first state is taken up after an agent restart (a script runs again, an
 * await-agent-restart is over, a builtin is resumed).
 */
export class WorkflowEngine {
  constructor(private readonly deps: EngineDeps) {}

  async run(run: CommandRun, workflow: Workflow, resumed: boolean): Promise<Outcome> {
    const advance = run.advance;
    if (advance === undefined) throw new Error('a workflow needs an executor that can advance commands');
    let payload: JsonObject = { ...run.payload };
    let fresh = !resumed;
    /** A `builtin:<op>` started in this process, awaited by the next state. */
    let pendingBuiltin: string | undefined;
    for (;;) {
      if (run.signal.aborted) return STOPPING;
      const status = typeof payload['status'] === 'string' ? payload['status'] : 'init';
      if (status === 'successful') return { status: 'successful', payload };
      if (status === 'failed') return { status: 'failed', reason: typeof payload['reason'] === 'string' ? payload['reason'] : 'failed', payload };
      const state = workflow.states.get(status);
      if (state === undefined) return { status: 'failed', reason: `no state '${status}' in the workflow ${workflow.file}`, payload };
      run.log(`${workflow.operation} @ ${status}: ${describe(state.action)}`);
      const step = await this.step(run, workflow, state, payload, { fresh, pendingBuiltin, advance });
      pendingBuiltin = step.pendingBuiltin;
      fresh = true;
      if (run.signal.aborted) return STOPPING;
      payload = { ...payload, ...step.update };
      const next = String(payload['status']);
      run.log(`${workflow.operation} @ ${status} → ${next}${typeof step.update['reason'] === 'string' ? ` (${step.update['reason']})` : ''}`);
      if (next !== 'successful' && next !== 'failed' && !step.advanced) await advance(next, payload);
    }
  }

  private async step(
    run: CommandRun,
    wf: Workflow,
    state: State,
    payload: JsonObject,
    ctx: { fresh: boolean; pendingBuiltin: string | undefined; advance: (status: string, payload: JsonObject) => Promise<void> },
  ): Promise<{ update: JsonObject; advanced?: boolean; pendingBuiltin?: string }> {
    const view = this.view(run, payload);
    const a = state.action;
    switch (a.kind) {
      case 'proceed':
        return { update: inject(a.onSuccess, undefined) };
      case 'cleanup':
        return { update: { status: 'failed', reason: `the state '${state.name}' ends nothing: only successful and failed are terminal` } };
      case 'script': {
        const argv = commandLine(a.command, view);
        if (typeof argv === 'string') return { update: { status: 'failed', reason: argv } };
        run.log(`running: ${JSON.stringify(argv)}`);
        const result = await runScript(argv, { signal: run.signal, ...(a.handlers.timeoutSeconds !== undefined && { timeoutSeconds: a.handlers.timeoutSeconds }) });
        if (result.stdout !== '') run.log(`stdout: ${result.stdout.trimEnd()}`);
        if (result.stderr !== '') run.log(`stderr: ${result.stderr.trimEnd()}`);
        run.log(`ended: ${JSON.stringify(result.end)}`);
        return { update: scriptUpdate(argv[0] as string, a.handlers, result.end, result.stdout) };
      }
      case 'background-script': {
        const argv = commandLine(a.command, view);
        if (typeof argv === 'string') return { update: { status: 'failed', reason: argv } };
        // The next state first: the script may restart the agent or the device right away.
        const next = { ...payload, ...inject(a.onExec, undefined) };
        if (!isTerminalStatus(a.onExec.status)) await ctx.advance(a.onExec.status, next);
        run.log(`launching in the background: ${JSON.stringify(argv)}`);
        try {
          await launchBackground(argv);
        } catch (err) {
          run.log(`cannot launch ${argv[0] ?? ''}: ${errorMessage(err)}`);
        }
        return { update: inject(a.onExec, undefined), advanced: true };
      }
      case 'builtin-operation': {
        if (!this.deps.builtins.has(a.operation)) return { update: { status: 'failed', reason: `no built-in operation '${a.operation}'` } };
        const next = { ...payload, ...inject(a.onExec, undefined) };
        if (!isTerminalStatus(a.onExec.status)) await ctx.advance(a.onExec.status, next);
        return { update: inject(a.onExec, undefined), advanced: true, pendingBuiltin: a.operation };
      }
      case 'operation':
        return this.startSubOperation(run, wf, a, payload, view, ctx.advance);
      case 'await-operation-completion': {
        const builtin = ctx.pendingBuiltin ?? (ctx.fresh ? undefined : builtinAwaitedBy(wf, state.name));
        if (builtin !== undefined) return { update: awaitUpdate(a.handlers, await this.runBuiltin(run, builtin, payload, ctx.pendingBuiltin !== undefined)) };
        return { update: await this.awaitSubOperation(run, wf, state.name, a, payload, !ctx.fresh) };
      }
      case 'builtin': {
        const op = a.operation === '' ? wf.operation : a.operation;
        return { update: awaitUpdate(a.handlers, await this.runBuiltin(run, op, payload, ctx.fresh)) };
      }
      case 'await-agent-restart': {
        // Resumed after a restart: what it waited for has happened.
        if (!ctx.fresh) return { update: inject(a.handlers.onSuccess, undefined) };
        run.log('waiting for the agent to restart');
        // Without a timeout_second, thin-edge's 60 s: a restart that never comes must not leave the command waiting for ever.
        const timedOut = await sleep(a.handlers.timeoutSeconds || DEFAULT_RESTART_WAIT_S, run.signal);
        return { update: timedOut ? inject(a.handlers.onTimeout, undefined) : { status: 'failed', reason: 'the agent is stopping' } };
      }
      case 'iterate': {
        const m = /^\$\{(.*)\}$/.exec(a.path);
        const items = m ? (evaluate(m[1] as string, view) ?? null) : null;
        return { update: iterateUpdate(items, payload, a.path, a) };
      }
      case 'download':
        return { update: await this.download(run, a, payload, view) };
      case 'upload':
        return { update: await this.upload(run, a, payload, view) };
      case 'builtin-step':
        return { update: await this.builtinStep(run, a, payload, view, !ctx.fresh) };
      case 'restart-agent': {
        const restart = run.context.restartAgent;
        if (restart === undefined) return { update: { status: 'failed', reason: 'restart-agent: this agent cannot restart itself' } };
        // Persisted first: the next process takes the command up in `on_exec`.
        if (!isTerminalStatus(a.onExec.status)) await ctx.advance(a.onExec.status, { ...payload, ...inject(a.onExec, undefined) });
        run.log('restarting the agent');
        restart(`the workflow ${wf.operation} ${run.cmdId} asked for it in the state '${state.name}'`);
        // Nothing more runs in this process: the next one takes the command up.
        if (await sleep(RESTART_GRACE_S, run.signal)) return { update: { status: 'failed', reason: `restart-agent: the agent did not stop within ${RESTART_GRACE_S} s` } };
        return { update: inject(a.onExec, undefined), advanced: true };
      }
    }
  }

  /** thin-edge's builtin step: `input.*` merged into the payload, then the step; what it checkpoints is kept too. */
  private async builtinStep(run: CommandRun, a: Extract<Action, { kind: 'builtin-step' }>, payload: JsonObject, view: CommandView, resumed: boolean): Promise<JsonObject> {
    const name = `builtin:${a.operation}:${a.step}`;
    const input = a.input === undefined ? {} : extract(a.input, view);
    const given: JsonObject = isJsonObject(input) ? input : {};
    const builtin = this.deps.builtins.get(a.operation);
    if (builtin?.runStep === undefined || !(builtin.steps ?? []).includes(a.step)) return actionUpdate(name, a.handlers, { ok: false, reason: `no builtin step ${a.step} for the operation ${a.operation}`, json: given });
    let saved: JsonObject = {};
    const inner: CommandRun = {
      ...run,
      payload: { ...payload, ...given },
      checkpoint: async (update) => {
        saved = { ...saved, ...update };
        await run.checkpoint(update);
      },
    };
    let result: StepResult;
    try {
      result = await builtin.runStep(a.step, inner, resumed);
    } catch (err) {
      result = { ok: false, reason: errorMessage(err) };
    }
    run.log(`${name} ${result.ok ? 'done' : `failed: ${result.reason}`}`);
    return actionUpdate(name, a.handlers, { ...result, json: { ...given, ...saved, ...(result.json ?? {}) } });
  }

  private async upload(run: CommandRun, a: Extract<Action, { kind: 'upload' }>, payload: JsonObject, view: CommandView): Promise<JsonObject> {
    const input = a.input === undefined ? {} : extract(a.input, view);
    const from = (key: string): string | undefined => (isJsonObject(input) && typeof input[key] === 'string' && input[key] !== '' ? input[key] : undefined);
    const url = from('url') ?? firstString(payload, ['tedgeUrl']);
    if (url === undefined) return actionUpdate('upload', a.handlers, { ok: false, reason: 'No valid URL found in input.url or tedgeUrl' });
    const path = from('path') ?? firstString(payload, ['path']);
    if (path === undefined) return actionUpdate('upload', a.handlers, { ok: false, reason: 'No valid file path found in input.path or path' });
    if (this.deps.upload === undefined) return actionUpdate('upload', a.handlers, { ok: false, reason: 'this agent has no uploader' });
    try {
      await this.deps.upload(url, path, { signal: run.signal, log: (l) => run.log(l) });
    } catch (err) {
      return actionUpdate('upload', a.handlers, { ok: false, reason: `Upload failed: ${errorMessage(err)}` });
    }
    // Kept on the payload: config_snapshot reports the path it uploaded.
    return actionUpdate('upload', a.handlers, { ok: true, json: { path } });
  }

  private async download(run: CommandRun, a: Extract<Action, { kind: 'download' }>, payload: JsonObject, view: CommandView): Promise<JsonObject> {
    const input = a.input === undefined ? {} : extract(a.input, view);
    const fromInput = isJsonObject(input) && typeof input['url'] === 'string' && input['url'] !== '' ? input['url'] : undefined;
    const url = fromInput ?? firstString(payload, ['tedgeUrl', 'remoteUrl', 'url']);
    if (url === undefined) return actionUpdate('download', a.handlers, { ok: false, reason: 'no URL: give input.url, or tedgeUrl, remoteUrl or url in the payload' });
    const dest = join(run.context.config.string('tmp.path'), `${run.operation}-${run.cmdId}`.replace(/[^A-Za-z0-9._-]/g, '_'));
    run.log(`downloading ${url} to ${dest}`);
    try {
      await this.deps.download(url, dest, { signal: run.signal, log: (l) => run.log(l) });
    } catch (err) {
      return actionUpdate('download', a.handlers, { ok: false, reason: errorMessage(err) });
    }
    return actionUpdate('download', a.handlers, { ok: true, json: { downloadedPath: dest } });
  }

  /** A built-in implementation inside this command: `fresh` runs it, else it is taken up after a restart. */
  private async runBuiltin(run: CommandRun, operation: string, payload: JsonObject, fresh: boolean): Promise<{ status: 'successful'; output: JsonObject } | { status: 'failed'; reason: string }> {
    const builtin = this.deps.builtins.get(operation);
    if (builtin === undefined) return { status: 'failed', reason: `no built-in operation '${operation}'` };
    const inner: CommandRun = { ...run, payload };
    let outcome: Outcome;
    try {
      if (fresh) {
        await builtin.prepare?.(inner);
        outcome = await builtin.execute(inner);
      } else outcome = builtin.resume ? await builtin.resume(inner) : { status: 'failed', reason: AGENT_RESTARTED_REASON };
    } catch (err) {
      outcome = { status: 'failed', reason: errorMessage(err) };
    }
    run.log(`builtin:${operation} ${outcome.status}${outcome.status === 'failed' ? `: ${outcome.reason}` : ''}`);
    return outcome.status === 'successful' ? { status: 'successful', output: outcome.payload ?? {} } : { status: 'failed', reason: outcome.reason };
  }

  private async startSubOperation(
    run: CommandRun,
    wf: Workflow,
    a: Extract<Action, { kind: 'operation' }>,
    payload: JsonObject,
    view: CommandView,
    advance: (status: string, payload: JsonObject) => Promise<void>,
  ): Promise<{ update: JsonObject; advanced: boolean }> {
    const operation = substitute(a.operation, view);
    if (!/^[A-Za-z0-9_-]+$/.test(operation)) return { update: { status: 'failed', reason: `not an operation name: '${operation}' (from ${a.operation})` }, advanced: false };
    let init: JsonObject = {};
    if (a.inputScript !== undefined) {
      const argv = commandLine(a.inputScript, view);
      if (typeof argv === 'string') return { update: { status: 'failed', reason: argv }, advanced: false };
      const result = await runScript(argv, { signal: run.signal });
      if (result.end.kind !== 'exit' || result.end.code !== 0) return { update: { status: 'failed', reason: `input_script ${argv[0] ?? ''} failed: ${JSON.stringify(result.end)}` }, advanced: false };
      const out = scriptOutput(result.stdout);
      if (out.json === undefined) return { update: { status: 'failed', reason: `Program \`${argv[0] ?? ''}\` stdout ${out.error ?? ''}` }, advanced: false };
      init = out.json;
    }
    if (a.input !== undefined) {
      const input = extract(a.input, view);
      if (isJsonObject(input)) init = { ...init, ...input };
    }
    init = { ...init, status: 'init' };
    const next = { ...payload, ...inject(a.onExec, undefined) };
    // thin-edge's order: this command's next state first, then the sub-command's init.
    if (!isTerminalStatus(a.onExec.status)) await advance(a.onExec.status, next);
    const subId = subCommandId(wf.operation, run.cmdId);
    run.log(`sub-operation ${operation} ${subId}: ${JSON.stringify(init)}`);
    await run.commands?.publish(operation, subId, init);
    return { update: inject(a.onExec, undefined), advanced: true };
  }

  private async awaitSubOperation(run: CommandRun, wf: Workflow, stateName: string, a: Extract<Action, { kind: 'await-operation-completion' }>, payload: JsonObject, resumed: boolean): Promise<JsonObject> {
    const starter = [...wf.states.values()].find((s) => s.action.kind === 'operation' && s.action.onExec.status === stateName);
    if (starter?.action.kind !== 'operation') return { status: 'failed', reason: `the state '${stateName}' awaits no operation (no state has on_exec = "${stateName}")` };
    const operation = substitute(starter.action.operation, this.view(run, payload));
    const subId = subCommandId(wf.operation, run.cmdId);
    const commands = run.commands;
    if (commands === undefined) return { status: 'failed', reason: 'sub-operations need the executor' };
    const result = await new Promise<{ status: 'successful'; output: JsonObject } | { status: 'failed'; reason: string } | { status: 'timeout' } | undefined>((resolve) => {
      const timers: NodeJS.Timeout[] = [];
      let seen = false;
      let stop = (): void => {};
      const done = (r: Parameters<typeof resolve>[0]): void => {
        for (const t of timers) clearTimeout(t);
        run.signal.removeEventListener('abort', onAbort);
        stop();
        resolve(r);
      };
      const onAbort = (): void => done(undefined);
      run.signal.addEventListener('abort', onAbort, { once: true });
      if (a.handlers.timeoutSeconds !== undefined && a.handlers.timeoutSeconds > 0) timers.push(setTimeout(() => done({ status: 'timeout' }), a.handlers.timeoutSeconds * 1000));
      // After a restart the sub-command may never have been published (killed in between): do not wait forever.
      if (resumed) timers.push(setTimeout(() => seen || done({ status: 'failed', reason: `the sub-operation ${operation} ${subId} is unknown (lost in an agent restart)` }), this.deps.lostSubCommandMs ?? 10_000));
      stop = commands.watch(operation, subId, (sub) => {
        if (sub === undefined) return;
        seen = true;
        if (sub['status'] === 'successful') {
          const subView = this.view({ ...run, operation, cmdId: subId }, sub);
          const output = a.output === undefined ? {} : extract(a.output, subView);
          done({ status: 'successful', output: isJsonObject(output) ? output : {} });
        } else if (sub['status'] === 'failed') done({ status: 'failed', reason: typeof sub['reason'] === 'string' ? sub['reason'] : `${operation} failed` });
      });
    });
    if (result === undefined) return { status: 'failed', reason: 'the agent is stopping' };
    run.log(`sub-operation ${operation} ${subId}: ${result.status}`);
    // The parent is the requester of its sub-command: it clears it, as a mapper clears what it asked for.
    if (result.status !== 'timeout') await commands.publish(operation, subId, undefined).catch(() => {});
    return awaitUpdate(a.handlers, result);
  }

  private view(run: Pick<CommandRun, 'entity' | 'operation' | 'cmdId'>, payload: JsonObject): CommandView {
    const topic = topicFor(run.entity, { kind: 'command', operation: run.operation, cmdId: run.cmdId }, this.deps.topicRoot);
    const t = parseTopic(topic, this.deps.topicRoot);
    return { topic, rootPrefix: this.deps.topicRoot, target: t?.entity ?? run.entity, operation: run.operation, cmdId: run.cmdId, payload };
  }
}

/** thin-edge's id of a sub-command, which names the command that invoked it. */
export function subCommandId(operation: string, cmdId: string): string {
  return `sub:${operation}:${cmdId}`;
}

/** The command split into argv first, then each item substituted: a payload value stays one item. */
export function commandLine(command: string, view: CommandView): string[] | string {
  try {
    return splitShellWords(command).map((word) => substitute(word, view));
  } catch (err) {
    return err instanceof ShellWordsError ? `cannot split the command: ${err.message}` : errorMessage(err);
  }
}

/** The builtin whose `builtin:<op>` state moves to `state` (to take it up after a restart). */
function builtinAwaitedBy(wf: Workflow, state: string): string | undefined {
  for (const s of wf.states.values()) if (s.action.kind === 'builtin-operation' && s.action.onExec.status === state) return s.action.operation;
  return undefined;
}

function firstString(payload: JsonObject, keys: readonly string[]): string | undefined {
  for (const k of keys) {
    const v: JsonValue | undefined = payload[k];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

function isTerminalStatus(s: string): boolean {
  return s === 'successful' || s === 'failed';
}

/** Resolves true after `seconds` (never without), false when the agent stops first. */
function sleep(seconds: number | undefined, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = seconds === undefined || seconds <= 0 ? undefined : setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, seconds * 1000);
    const onAbort = (): void => {
      if (timer) clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function describe(a: Action): string {
  switch (a.kind) {
    case 'script':
    case 'background-script':
      return `${a.kind} ${a.command}`;
    case 'operation':
      return `operation ${a.operation}`;
    case 'builtin-operation':
      return `operation builtin:${a.operation}`;
    case 'builtin-step':
      return `action builtin:${a.operation}:${a.step}`;
    case 'iterate':
      return `iterate ${a.path}`;
    default:
      return `action ${a.kind}`;
  }
}
