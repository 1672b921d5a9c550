import { type BuiltinServices, BuiltinStep } from './builtins';
import { type FlowMessage, type StepFailure, packMessages, unpackMessages } from './flow-message';
import { KvStore } from './kv-store';
import { ScriptStep } from './script-step';
import type { Step, StepOutcome } from './step';
import { StepCounters, type StepFunction, type StepStatsDelta } from './step-stats';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker-protocol';

/** A reply whose outputs stayed objects (no thread hop to pack them for). */
export type InThreadReply = Omit<WorkerReply, 'outputs'> & { readonly outputs: readonly FlowMessage[] };
import { basename } from 'node:path';

/**
 * One flow's steps in order, with its stores: a batch goes through every step, each step's outputs
 * being the next one's inputs; an interval's outputs enter the chain after the step that made them.
 * The same code runs in the mapper's worker and in `tedge flows test`.
 */
export class FlowChain {
  readonly hasInterval: boolean;
  private readonly steps: Step[];
  private readonly mapper = new KvStore(true);
  private readonly flow = new KvStore();
  private readonly scripts = new Map<string, KvStore>();
  private readonly lastInterval: number[];
  private logs: string[] = [];
  /** Only when the mapper publishes step statistics: otherwise no call is timed. */
  private readonly counters: StepCounters | undefined;

  /** `services`: what the mapper's thread lends builtins (never set in a worker). */
  constructor(init: WorkerInit, services: BuiltinServices = {}) {
    for (const [k, v] of init.mapperStore) this.mapper.set(k, v, true);
    const log = (line: string): void => {
      if (this.logs.length < 100) this.logs.push(line);
    };
    this.steps = init.flow.steps.map((def, i) => {
      if (def.kind === 'builtin') return new BuiltinStep(def.name, def.config, def.intervalMs, { mapper: this.mapper, flow: this.flow, script: new KvStore() }, services);
      const label = labelOf(def.path, i, init.flow.steps.map((s) => (s.kind === 'script' ? s.path : '')));
      const script = new KvStore();
      for (const [k, v] of init.scriptStores[label] ?? []) script.set(k, v);
      this.scripts.set(label, script);
      const code = init.scripts[def.path];
      if (code === undefined) throw new Error(`${def.path}: script not loaded`);
      return new ScriptStep(label, code, def.path, def.config, def.intervalMs, { mapper: this.mapper, flow: this.flow, script }, { callTimeoutMs: init.callTimeoutMs }, log);
    });
    this.hasInterval = this.steps.some((s) => s.hasInterval);
    this.lastInterval = this.steps.map(() => init.now);
    this.counters = init.stepStats === true ? new StepCounters() : undefined;
  }

  /** onStartup of every step, in order, its messages going down the chain. */
  startup(now: number, id: number): WorkerReply {
    const failures: StepFailure[] = [];
    const outputs: FlowMessage[] = [];
    this.steps.forEach((step, i) => {
      const o = this.call(step, 'onStartup', 1, () => step.onStartup(now));
      failures.push(...o.failures);
      outputs.push(...this.runFrom(i + 1, o.outputs, failures));
    });
    return this.reply(id, outputs, failures);
  }

  handle(req: WorkerRequest): WorkerReply {
    if (req.kind === 'script-stores') return this.scriptStores(req.id);
    if (req.kind === 'messages') return this.messages(req.id, unpackMessages(req.messages), req.mapperUpdates);
    return this.tick(req.id, req.now, req.final, req.mapperUpdates);
  }

  messages(id: number, messages: readonly FlowMessage[], mapperUpdates: readonly [string, string | null][]): WorkerReply {
    const failures: StepFailure[] = [];
    return this.reply(id, this.batch(messages, mapperUpdates, failures), failures);
  }

  /** As `messages`, the outputs not packed: for a flow run in the mapper's thread, where nothing crosses to a worker. */
  messagesInThread(id: number, messages: readonly FlowMessage[], mapperUpdates: readonly [string, string | null][]): InThreadReply {
    const failures: StepFailure[] = [];
    const outputs = this.batch(messages, mapperUpdates, failures);
    return { ...this.reply(id, [], failures), outputs };
  }

  /** The batch through every step, unpacked: for the mapper's thread, where nothing crosses a worker boundary. */
  run(messages: readonly FlowMessage[], mapperUpdates: readonly [string, string | null][]): { outputs: FlowMessage[]; failures: StepFailure[]; mapperChanges: [string, string | null][]; stepStats?: StepStatsDelta[] } {
    const failures: StepFailure[] = [];
    const outputs = this.batch(messages, mapperUpdates, failures);
    this.logs = [];
    const mapperChanges = this.mapper.takeChanges();
    return this.counters === undefined ? { outputs, failures, mapperChanges } : { outputs, failures, mapperChanges, stepStats: this.counters.take() ?? [] };
  }

  private batch(messages: readonly FlowMessage[], mapperUpdates: readonly [string, string | null][], failures: StepFailure[]): FlowMessage[] {
    for (const [k, v] of mapperUpdates) this.mapper.set(k, v, true);
    return this.runFrom(0, messages, failures);
  }

  /** onInterval of the steps that are due, or of all when `final`. */
  tick(id: number, now: number, final: boolean, mapperUpdates: readonly [string, string | null][]): WorkerReply {
    for (const [k, v] of mapperUpdates) this.mapper.set(k, v, true);
    const failures: StepFailure[] = [];
    const outputs: FlowMessage[] = [];
    this.steps.forEach((step, i) => {
      if (!step.hasInterval || (!final && now - (this.lastInterval[i] ?? 0) < step.intervalMs)) return;
      this.lastInterval[i] = now;
      const o = this.call(step, 'onInterval', 1, () => step.onInterval(now, final));
      failures.push(...o.failures);
      outputs.push(...this.runFrom(i + 1, o.outputs, failures));
    });
    return this.reply(id, outputs, failures);
  }

  scriptStores(id: number): WorkerReply {
    const stores: Record<string, [string, string][]> = {};
    for (const [label, store] of this.scripts) stores[label] = store.keys().map((k) => [k, store.get(k) as string]);
    return { ...this.reply(id, [], []), scriptStores: stores };
  }

  private runFrom(first: number, messages: readonly FlowMessage[], failures: StepFailure[]): FlowMessage[] {
    let current = messages;
    for (let i = first; i < this.steps.length && current.length > 0; i++) {
      const step = this.steps[i] as Step;
      const batch = current;
      const o = this.call(step, 'onMessage', batch.length, () => step.onMessages(batch));
      if (o.failures.length > 0) failures.push(...o.failures);
      current = o.outputs;
    }
    return current as FlowMessage[];
  }

  /** One step function on `calls` inputs, counted when step statistics are on. */
  private call(step: Step, fn: StepFunction, calls: number, run: () => StepOutcome): StepOutcome {
    if (this.counters === undefined) return run();
    const started = process.hrtime.bigint();
    const o = run();
    this.counters.record(step.label, fn, calls, o.outputs.length, o.failures.length, Number(process.hrtime.bigint() - started));
    return o;
  }

  private reply(id: number, outputs: FlowMessage[], failures: StepFailure[]): WorkerReply {
    const logs = this.logs;
    this.logs = [];
    const stepStats = this.counters?.take();
    return { id, outputs: packMessages(outputs), failures, logs, mapperChanges: this.mapper.takeChanges(), ...(stepStats !== undefined && { stepStats }) };
  }
}

/** The script's file name, with the step's index when the flow uses the same file twice. */
function labelOf(path: string, index: number, paths: readonly string[]): string {
  const name = basename(path);
  return paths.filter((p) => p !== '' && basename(p) === name).length > 1 ? `${name}#${index}` : name;
}
