import { appendFileSync, readFileSync } from 'node:fs';
import { compileStepModule } from './compile-script';
import { basename } from 'node:path';
import { filtersMatcher, topicMatches } from '../bus/topic-filter';
import type { Clock } from '../core/clock';
import { errorMessage } from '../core/errors';
import { type Message, type QoS, formatLine, message } from '../core/message';
import { errorsTopic } from '../core/topics';
import type { Logger } from '../log/logger';
import { systemClock } from '../runtime/system-clock';
import type { InThreadReply } from './flow-chain';
import { type FlowMessage, type PackedMessages, type StepFailure, packedQos } from './flow-message';
import { DEFAULT_LIMITS, FlowWorker, type IsolationLimits } from './flow-worker-host';
import { loadErrorText, stepFailureText } from './flow-reports';
import { InProcessFlow } from './in-process-flow';
import { type LoadedFlow, flowFiles, loadFlow } from './flow-loader';
import { type FlowDefinition, type FlowOutput, mqttFilters } from './model';
import { type FlowStats, countsSteps, flowStatsMessages, newFlowStats } from './flow-stats';
import { type StepStatsFilter, StepStatsTotals } from './step-stats';
import type { WorkerInit, WorkerReply } from './worker-protocol';

export type { FlowStats } from './flow-stats';

interface RunningFlow {
  readonly loaded: LoadedFlow;
  readonly accepts: (topic: string) => boolean;
  readonly worker: FlowWorker | InProcessFlow;
  readonly stats: FlowStats;
  readonly stepStats: StepStatsTotals;
}

export interface FlowEngineDeps {
  readonly flowsDir: string;
  readonly topicRoot: string;
  /** The mapper's service name (`tedge-mapper-local`): the statistics are on its metrics topics. */
  readonly service: string;
  /** Values for `${mapper.*}` (mapper.toml). */
  readonly mapperParams: Record<string, unknown>;
  readonly limits?: IsolationLimits;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Where MQTT outputs go: the bus in the mapper, stdout in `tedge flows test`. */
  readonly publish: (msg: Message) => void;
  /** flows.stats.on_message / on_interval / on_startup: which step functions get statistics of their own. */
  readonly stepStats?: StepStatsFilter;
}

/**
 * The flows of one mapper: loads every flow file of its directory, one worker per flow, dispatches
 * input messages to the flows whose inputs match, routes outputs and errors, shares context.mapper
 * between flows, and reloads what changed (a flow that no longer loads is reported on te/errors and
 * the log, and its previous version keeps running). `tedge flows test` uses it with another publish.
 */
export class FlowEngine {
  private readonly flows = new Map<string, RunningFlow>();
  private readonly mapperStore = new Map<string, string>();
  /** The load error last reported per file: a reload for another file's change does not report it again. */
  private readonly reported = new Map<string, string>();
  private readonly limits: IsolationLimits;

  /** Milliseconds since the epoch: Date.now() with the system clock spares the mapper a Date per message. */
  private readonly nowMs: () => number;

  constructor(private readonly deps: FlowEngineDeps) {
    this.limits = deps.limits ?? DEFAULT_LIMITS;
    this.nowMs = deps.clock === systemClock ? Date.now : () => deps.clock.now().getTime();
  }

  /** Values for context.mapper before the flows start (`tedge flows test --context`): JSON values by key. */
  seedMapperContext(values: Record<string, unknown>): void {
    for (const [k, v] of Object.entries(values)) if (v !== null && v !== undefined) this.mapperStore.set(k, JSON.stringify(v));
  }

  /** Loads (or reloads) the directory: new and changed flows start, removed ones stop. */
  async sync(only?: (path: string) => boolean): Promise<void> {
    const paths = flowFiles(this.deps.flowsDir).filter((p) => only === undefined || only(p));
    for (const [path, running] of [...this.flows]) {
      if (!paths.includes(path)) {
        this.flows.delete(path);
        this.reported.delete(path);
        await this.releaseHeld(running);
        await running.worker.stop();
        this.deps.logger.info({ flow: running.loaded.definition.name }, 'flow removed');
      }
    }
    for (const path of paths) {
      let loaded: LoadedFlow;
      try {
        loaded = loadFlow(this.deps.flowsDir, path, this.deps.mapperParams, errorsTopic(this.deps.topicRoot));
      } catch (err) {
        this.reportLoadError(path, err);
        continue;
      }
      const previous = this.flows.get(path);
      if (previous?.loaded.digest === loaded.digest) continue;
      await this.startFlow(path, loaded, previous);
    }
  }

  /**
   * One step script alone as a flow taking every topic, as thin-edge's `tedge flows test --flow step.js`:
   * the flow cannot know its output topics, so no loop is assumed.
   */
  async loadScriptAsFlow(path: string): Promise<void> {
    const definition: FlowDefinition = {
      name: basename(path),
      path,
      inputs: [{ kind: 'mqtt', topics: ['#'] }],
      steps: [{ kind: 'script', path, config: {}, intervalMs: 1000 }],
      output: { kind: 'mqtt' },
      errors: { kind: 'mqtt', topic: errorsTopic(this.deps.topicRoot) },
    };
    let scripts: Record<string, string>;
    try {
      scripts = { [path]: compileStepModule(readFileSync(path, 'utf8'), path) };
    } catch (err) {
      this.reportLoadError(path, err);
      return;
    }
    await this.startFlow(path, { definition, scripts, digest: '' }, undefined);
  }

  /** A flow leaving (removed, or replaced by a reload): its final onInterval, what its steps hold routed out. */
  private async releaseHeld(f: RunningFlow): Promise<void> {
    if (f.worker.hasInterval) await f.worker.tick(this.deps.clock.now().getTime(), true);
  }

  private async startFlow(path: string, loaded: LoadedFlow, previous: RunningFlow | undefined): Promise<void> {
    // Before context.script is handed over: what the old version releases is not held by the new one too.
    if (previous) await this.releaseHeld(previous);
    const scriptStores = previous ? ((await previous.worker.scriptStores()).scriptStores ?? {}) : {};
    const stats: FlowStats = previous?.stats ?? newFlowStats();
    const stepStats = previous?.stepStats ?? new StepStatsTotals();
    const countSteps = this.deps.stepStats !== undefined && countsSteps(this.deps.stepStats);
    const def = loaded.definition;
    const init = (): WorkerInit => ({ flow: def, scripts: loaded.scripts, callTimeoutMs: this.limits.callTimeoutMs, mapperStore: [...this.mapperStore], scriptStores, now: this.deps.clock.now().getTime(), ...(countSteps && { stepStats: true }) });
    const route = (reply: WorkerReply | InThreadReply): void => {
      stepStats.add(reply.stepStats);
      this.route(def, stats, worker, reply);
    };
    // User scripts run in a worker (memory limit, a thread to end); builtin-only flows are the mapper's own code.
    const worker = def.steps.some((s) => s.kind === 'script')
      ? new FlowWorker(init, this.limits, (reason) => this.deps.logger.warn({ flow: def.name }, `flow worker restarted: ${reason}`), route)
      : new InProcessFlow(init, route);
    let startup: WorkerReply;
    try {
      startup = await worker.start();
    } catch (err) {
      this.reportLoadError(path, err);
      return;
    }
    if (previous) await previous.worker.stop();
    this.flows.set(path, { loaded, accepts: remembered(filtersMatcher(mqttFilters(def))), worker, stats, stepStats });
    this.reported.delete(path);
    this.deps.logger.info({ flow: def.name }, previous ? 'flow reloaded' : 'flow loaded');
    route(startup);
  }

  definitions(): FlowDefinition[] {
    return [...this.flows.values()].map((f) => f.loaded.definition);
  }

  filters(): string[] {
    return [...new Set(this.definitions().flatMap(mqttFilters))];
  }

  /** One input message to every flow with a matching MQTT input; resolves when they are through. */
  dispatch(msg: Message, time = this.nowMs()): Promise<void> {
    // Built field by field (no spread): this runs for every message the mapper receives.
    const fm: { topic: string; payload: Uint8Array; time: number; qos?: QoS; retain?: boolean } = { topic: msg.topic, payload: msg.payload, time };
    if (msg.qos !== undefined) fm.qos = msg.qos;
    if (msg.retain) fm.retain = true;
    let work: Promise<void>[] | Promise<void> | undefined;
    for (const f of this.flows.values()) {
      if (!f.accepts(msg.topic)) continue;
      f.stats.input++;
      const done = f.worker.message(fm);
      work = work === undefined ? done : Array.isArray(work) ? [...work, done] : [work, done];
    }
    if (work === undefined) return Promise.resolve();
    return Array.isArray(work) ? Promise.all(work).then(() => {}) : work;
  }

  /** Messages a flow's own input (file, process) produced. */
  inject(flowPath: string, messages: readonly FlowMessage[]): Promise<void> {
    const f = this.flows.get(flowPath);
    if (f === undefined) return Promise.resolve();
    f.stats.input += messages.length;
    return f.worker.messages(messages);
  }

  /** onInterval of the steps that are due (all of them when `final`: `tedge flows test --final-on-interval`). */
  async tick(final = false): Promise<void> {
    const now = this.deps.clock.now().getTime();
    await Promise.all([...this.flows.values()].filter((f) => f.worker.hasInterval).map((f) => f.worker.tick(now, final)));
  }

  /** thin-edge's per-flow statistics: `<service>/status/metrics/<flow file>`. */
  statsMessages(): Message[] {
    const { topicRoot, service, stepStats } = this.deps;
    return flowStatsMessages({ topicRoot, service, ...(stepStats !== undefined && { steps: stepStats }) }, [...this.flows.entries()].map(([path, f]) => ({ path, ...f })));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.flows.values()].map((f) => f.worker.stop()));
    this.flows.clear();
  }

  private route(def: FlowDefinition, stats: FlowStats, from: FlowWorker | InProcessFlow, reply: WorkerReply | InThreadReply): void {
    for (const line of reply.logs) this.deps.logger.info({ flow: def.name }, line);
    if (reply.mapperChanges.length > 0) {
      for (const [k, v] of reply.mapperChanges) v === null ? this.mapperStore.delete(k) : this.mapperStore.set(k, v);
      for (const f of this.flows.values()) if (f.worker !== from) f.worker.shareMapperChanges(reply.mapperChanges);
    }
    const outputs = reply.outputs;
    if (isPacked(outputs)) {
      for (let i = 0, start = 0; i < outputs.topics.length; i++) {
        const end = outputs.ends[i] as number;
        this.output(def, stats, outputs.topics[i] as string, outputs.bytes.subarray(start, end), packedQos(outputs, i), outputs.flags[2 * i + 1] === 1);
        start = end;
      }
    } else for (const o of outputs) this.output(def, stats, o.topic, o.payload, o.qos, o.retain === true);
    for (const failure of reply.failures) this.fail(def, stats, failure);
  }

  private output(def: FlowDefinition, stats: FlowStats, topic: string, payload: Uint8Array, qos: QoS | undefined, retain: boolean): void {
    const rejected = this.emit(def.output, topic, payload, qos, retain);
    if (rejected === undefined) stats.output++;
    else this.fail(def, stats, { step: 'output', topic, error: rejected });
  }

  /** Sends one output; returns why it was refused, if it was. */
  private emit(output: FlowOutput, outTopic: string, payload: Uint8Array, qos: QoS | undefined, retain: boolean): string | undefined {
    if (output.kind === 'file') {
      try {
        appendFileSync(output.path, `${formatLine(message(outTopic, payload))}\n`);
        return undefined;
      } catch (err) {
        return `cannot append to ${output.path}: ${errorMessage(err)}`;
      }
    }
    const topic = output.topic ?? outTopic;
    if (output.acceptTopics !== undefined && !output.acceptTopics.some((f) => topicMatches(f, topic))) return `the output topic '${topic}' is not accepted by this flow (output.mqtt.accept_topics)`;
    const out: { topic: string; payload: Uint8Array; qos: QoS; retain?: boolean } = { topic, payload, qos: qos ?? 1 };
    if (retain) out.retain = true;
    this.deps.publish(out);
    return undefined;
  }

  private fail(def: FlowDefinition, stats: FlowStats, failure: StepFailure): void {
    stats.error++;
    const text = stepFailureText(def, failure);
    this.deps.logger.warn({ flow: def.name, step: failure.step, topic: failure.topic }, failure.error);
    if (def.errors.kind === 'file') {
      try {
        appendFileSync(def.errors.path, `${text}\n`);
      } catch (err) {
        this.deps.logger.error({ flow: def.name }, `cannot append to ${def.errors.path}: ${errorMessage(err)}`);
      }
    } else this.deps.publish(message(def.errors.topic ?? errorsTopic(this.deps.topicRoot), text, { qos: 1 }));
  }

  private reportLoadError(path: string, err: unknown): void {
    const text = loadErrorText(path, this.flows.has(path), err);
    if (this.reported.get(path) === text) return;
    this.reported.set(path, text);
    this.deps.logger.error({ path }, text);
    this.deps.publish(message(errorsTopic(this.deps.topicRoot), text, { qos: 1 }));
  }
}

function isPacked(outputs: PackedMessages | readonly FlowMessage[]): outputs is PackedMessages {
  return !Array.isArray(outputs);
}

/**
 * A flow's input filters, remembering the answer per topic: a mapper sees the same few hundred topics
 * again and again, and splitting each one per flow was a tenth of the mapper's time per message.
 */
function remembered(matches: (topic: string) => boolean, limit = 4096): (topic: string) => boolean {
  const known = new Map<string, boolean>();
  return (topic) => {
    let yes = known.get(topic);
    if (yes === undefined) {
      if (known.size >= limit) known.clear();
      yes = matches(topic);
      known.set(topic, yes);
    }
    return yes;
  };
}
