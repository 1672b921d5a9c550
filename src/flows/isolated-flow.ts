import { ConverterStopped } from '../core/converter';
import { type Message, message, payloadText } from '../core/message';
import { stepFailureText } from './flow-reports';
import type { FlowMessage, StepFailure } from './flow-message';
import type { FlowStats } from './flow-stats';
import type { StepStatsTotals } from './step-stats';
import { unpackMessages } from './flow-message';
import { type IsolationLimits, FlowWorker } from './flow-worker-host';
import type { LoadedFlow } from './flow-loader';
import type { FlowDefinition } from './model';
import type { WorkerReply } from './worker-protocol';

/** A flow's output as a built-in mapper publishes it: to `output.mqtt.topic` when set, else to the message's own topic. */
export function outputMessage(def: FlowDefinition, out: FlowMessage): Message {
  const output = def.output;
  return message(output.kind === 'mqtt' && output.topic !== undefined ? output.topic : out.topic, out.payload, { qos: 1 });
}

/** A step's failure as a built-in mapper reports it: on the flow's `errors.mqtt.topic`, else on the mapper's errors topic. */
export function failureMessage(def: FlowDefinition, failure: StepFailure, errorsTopic: string): Message {
  const topic = def.errors.kind === 'mqtt' && def.errors.topic !== undefined ? def.errors.topic : errorsTopic;
  return message(topic, stepFailureText(def, failure), { qos: 1 });
}

export interface IsolatedFlowDeps {
  readonly limits: IsolationLimits;
  /** Where a step's failure is reported when the flow names no `errors.mqtt.topic`. */
  readonly errorsTopic: string;
  /** context.mapper as it is now (a worker that starts, or starts again after its death, begins with it). */
  readonly mapperStore: () => [string, string][];
  /** What the flow's steps changed in context.mapper, for the other flows. */
  readonly onMapperChanges: (changes: [string, string | null][]) => void;
  readonly log: (level: 'info' | 'warn', text: string) => void;
  /** Where the flow's outputs and errors are counted (flows.stats), kept by the mapper across reloads. */
  readonly stats: FlowStats;
  readonly stepStats: StepStatsTotals;
  /** flows.stats.on_*: the worker times its step calls. */
  readonly countSteps: boolean;
}

/**
 * A flow with script steps in a built-in mapper: its steps run isolated in the flow's worker (the local
 * mapper's FlowWorker: batching, limits, restart after a death, one report for the message that killed
 * it), and each input gets a promise of the outputs, for the runtime to publish before acknowledging it.
 * A worker answers per batch, not per input: what it routed is taken by the inputs in their order, so an
 * input's promise holds the outputs of its batch or of earlier ones (the runtime acknowledges in order).
 */
export class IsolatedFlow {
  private readonly worker: FlowWorker;
  /** Outputs and error reports routed by the worker and not yet taken by an input. */
  private routed: Message[] = [];
  private lastTake: Promise<unknown> = Promise.resolve();
  /** Settled by `start`: inputs that come before (a persistent session's backlog at connect) wait for it. */
  private readonly ready: Promise<void>;
  private settleReady: (err?: unknown) => void = () => {};
  /** Set in the first reaction to `ready`, so it runs before those of the inputs that waited. */
  private isReady = false;
  private closed = false;
  private scriptStores: Record<string, [string, string][]> = {};

  constructor(
    readonly loaded: LoadedFlow,
    private readonly deps: IsolatedFlowDeps,
  ) {
    const def = loaded.definition;
    this.ready = new Promise<void>((resolve, reject) => (this.settleReady = (err) => (err === undefined ? resolve() : reject(err as Error))));
    this.ready.then(
      () => (this.isReady = true),
      () => {},
    );
    this.worker = new FlowWorker(
      () => ({ flow: def, scripts: loaded.scripts, callTimeoutMs: deps.limits.callTimeoutMs, mapperStore: deps.mapperStore(), scriptStores: this.scriptStores, now: Date.now(), ...(deps.countSteps && { stepStats: true }) }),
      deps.limits,
      (reason) => deps.log('warn', `flow ${def.name}: worker restarted: ${reason}`),
      (reply) => this.route(reply),
    );
  }

  /** Starts the worker with the context.script stores of the version it replaces; resolves with onStartup's messages. */
  async start(scriptStores: Record<string, [string, string][]>): Promise<Message[]> {
    this.scriptStores = scriptStores;
    let startup: WorkerReply;
    try {
      startup = await this.worker.start();
    } catch (err) {
      this.settleReady(new Error(`flow ${this.loaded.definition.name} cannot run: ${(err as Error).message}`));
      throw err;
    }
    this.settleReady();
    this.route(startup);
    return this.take();
  }

  submit(msg: FlowMessage): Promise<Message[]> {
    return this.takeAfter(this.isReady ? this.worker.messages([msg]) : this.ready.then(() => this.worker.messages([msg])));
  }

  /** What was routed once `done` is, taken after the takes before it (the runtime publishes in that order). */
  private takeAfter(done: Promise<unknown>): Promise<Message[]> {
    const take = Promise.all([this.lastTake, done]).then(
      () => this.take(),
      (err: unknown) => {
        throw this.closed ? new ConverterStopped() : err;
      },
    );
    this.lastTake = take.catch(() => {});
    return take;
  }

  /** Whether a step has onInterval (known once started). */
  get hasInterval(): boolean {
    return this.worker.hasInterval;
  }

  /**
   * onInterval of the steps that are due (of all when `final`: the mapper stops), after what was submitted
   * before; resolves with what the steps released, the outputs of inputs before it being theirs.
   */
  tick(now: number, final: boolean): Promise<Message[]> {
    return this.takeAfter(this.worker.tick(now, final));
  }

  shareMapperChanges(changes: readonly [string, string | null][]): void {
    this.worker.shareMapperChanges(changes);
  }

  /** context.script of every step, once what was submitted before went through. */
  async takeScriptStores(): Promise<Record<string, [string, string][]>> {
    return (await this.worker.scriptStores()).scriptStores ?? {};
  }

  /** Replaced by a reload: what was submitted goes through first, then the worker ends. */
  async retire(): Promise<void> {
    await this.lastTake;
    await this.stop();
  }

  /** Ends the worker: what it has not answered yet will not come (ConverterStopped). */
  async stop(): Promise<void> {
    this.closed = true;
    await this.worker.stop();
  }

  private take(): Message[] {
    if (this.closed) throw new ConverterStopped();
    const out = this.routed;
    this.routed = [];
    return out;
  }

  private route(reply: WorkerReply): void {
    const def = this.loaded.definition;
    for (const line of reply.logs) this.deps.log('info', `flow ${def.name}: ${line}`);
    if (reply.mapperChanges.length > 0) this.deps.onMapperChanges(reply.mapperChanges);
    this.deps.stepStats.add(reply.stepStats);
    const outputs = unpackMessages(reply.outputs);
    this.deps.stats.output += outputs.length;
    this.deps.stats.error += reply.failures.length;
    for (const out of outputs) this.routed.push(outputMessage(def, out));
    for (const failure of reply.failures) {
      const report = failureMessage(def, failure, this.deps.errorsTopic);
      this.deps.log('warn', payloadText(report));
      this.routed.push(report);
    }
  }
}
