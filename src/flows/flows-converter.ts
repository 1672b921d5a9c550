import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { filtersMatcher } from '../bus/topic-filter';
import type { Converter, ConverterHost } from '../core/converter';
import { ConversionError, errorMessage } from '../core/errors';
import { type Message, message, payloadText } from '../core/message';
import type { BuiltinServices } from './builtins';
import { FlowChain } from './flow-chain';
import { loadErrorText } from './flow-reports';
import { DEFAULT_LIMITS, type IsolationLimits } from './flow-worker-host';
import { IsolatedFlow, failureMessage, outputMessage } from './isolated-flow';
import { type FlowStats, type FlowStatsSettings, countsSteps, flowStatsMessages, newFlowStats } from './flow-stats';
import { unpackMessages } from './flow-message';
import { StepStatsTotals } from './step-stats';
import type { Logger } from '../log/logger';
import { PathsWatch } from '../runtime/paths-watch';
import { type LoadedFlow, flowFiles, loadFlow, treeFingerprint } from './flow-loader';
import { KvStore } from './kv-store';
import { mqttFilters } from './model';

/** A flow of builtin steps only: run synchronously in the mapper's thread. */
interface InlineFlow {
  readonly kind: 'inline';
  readonly path: string;
  readonly flow: LoadedFlow;
  readonly chain: FlowChain;
  readonly accepts: (topic: string) => boolean;
  /** context.mapper changes the chain has not seen yet (it holds its own copy). */
  pending: [string, string | null][];
  readonly stats: FlowStats;
  readonly stepStats: StepStatsTotals;
  /** Only with flows.stats.on_*: then the flow's time per input is measured too (two clock reads a message otherwise spared). */
  readonly timed: boolean;
}

/** A flow with script steps: run isolated in its worker, its outputs later (Converter.takeLater). */
interface WorkerFlow {
  readonly kind: 'worker';
  readonly path: string;
  readonly flow: LoadedFlow;
  readonly runner: IsolatedFlow;
  readonly accepts: (topic: string) => boolean;
  readonly stats: FlowStats;
  readonly stepStats: StepStatsTotals;
}

/** How often onInterval is considered at most (each step runs at its own `interval`), as the local mapper. */
const TICK_MS = 250;

type ConvertingFlow = InlineFlow | WorkerFlow;

/**
 * The flows of a built-in mapper as its converter, for MapperRuntime. Flows of builtin steps only run
 * synchronously in the mapper's thread (a step's failure is the input's ConversionError, reported by the
 * runtime); flows with script steps run isolated in a worker each, as in the local mapper, and their
 * outputs (a failing step reported as the local mapper does) come through `takeLater`. A reload can
 * change the input topics (`filtersChanged`) and reports a file that no longer loads on te/errors.
 * The steps' onInterval and the flows' statistics are due by the runtime's flush timer (`nextFlushAt`);
 * at a stop (`flush` draining) every onInterval runs once more, releasing what the steps hold.
 */
export class FlowsConverter implements Converter {
  private flows: ConvertingFlow[];
  private currentFilters: string[];
  /** context.mapper as every flow last saw it, to seed the flows a reload makes. */
  private readonly context = new KvStore();
  /** Flows a reload is making, not yet in `flows`: they see context.mapper changes meanwhile. */
  private incoming: ConvertingFlow[] = [];
  private later: Promise<Message[]>[] = [];
  private host: ConverterHost | undefined;
  private reloading: Promise<unknown> = Promise.resolve();
  /** The load error last reported per file: a reload for another file's change does not report it again. */
  private readonly reported = new Map<string, string>();
  /** The files that did not load at construction, reported once the runtime lends a host. */
  private readonly unloaded: [string, unknown][] = [];
  /** When onInterval and the statistics are next due: 0 before the first flush (which sets them from its `now`). */
  private nextTickAt = 0;
  private nextStatsAt = 0;
  /** nextFlushAt's answer, kept: the runtime asks after every input. */
  private due: Date | undefined = new Date(0);

  constructor(
    private readonly flowsDir: string,
    private readonly errorsTopic: string,
    private readonly services: BuiltinServices = {},
    private readonly limits: IsolationLimits = DEFAULT_LIMITS,
    /** flows.stats.*: without it no statistics are published. */
    private readonly stats?: FlowStatsSettings,
  ) {
    // A file that does not load does not stop the mapper (its other flows run): it is reported at start.
    this.flows = flowFiles(flowsDir).flatMap((path) => {
      try {
        return [this.load(path, undefined)];
      } catch (err) {
        this.unloaded.push([path, err]);
        return [];
      }
    });
    this.incoming = [];
    this.currentFilters = filtersOf(this.flows);
  }

  get filters(): readonly string[] {
    return this.currentFilters;
  }

  /** Starts the workers of the flows with script steps; a flow whose worker cannot start is reported and left out. */
  async start(host: ConverterHost): Promise<void> {
    this.host = host;
    for (const [path, err] of this.unloaded.splice(0)) this.report(path, false, err);
    const running: ConvertingFlow[] = [];
    for (const f of this.flows) {
      try {
        if (f.kind === 'worker') await this.startWorker(f, undefined);
        running.push(f);
      } catch (err) {
        this.report(f.path, false, err);
      }
    }
    this.replace(running);
  }

  async stop(): Promise<void> {
    await this.reloading;
    await Promise.all(this.flows.map((f) => (f.kind === 'worker' ? f.runner.stop() : undefined)));
  }

  /**
   * Loads the directory again (a user's edit while the mapper runs), one reload at a time: a flow that no
   * longer loads keeps its previous version and is returned as `<file>: <error>` (and reported on te/errors
   * once started); an unchanged flow keeps its state, context.mapper and context.script carry over.
   */
  reload(): Promise<string[]> {
    const run = this.reloading.then(() => this.reloadNow());
    this.reloading = run.catch(() => {});
    return run;
  }

  private async reloadNow(): Promise<string[]> {
    const previous = new Map(this.flows.map((f) => [f.path, f]));
    const errors: string[] = [];
    const next: ConvertingFlow[] = [];
    for (const path of flowFiles(this.flowsDir)) {
      const kept = previous.get(path);
      try {
        const f = this.load(path, kept);
        if (f !== kept && f.kind === 'worker' && this.host !== undefined) await this.startWorker(f, kept);
        next.push(f);
        this.reported.delete(path);
      } catch (err) {
        errors.push(`${path}: ${errorMessage(err)}`);
        this.report(path, kept !== undefined, err);
        if (kept !== undefined) next.push(kept);
      }
    }
    this.incoming = [];
    // A replaced or removed inline flow releases what its steps hold (no input would be left to blame), in
    // the same turn as the swap: no input reaches the old chain after its final onInterval.
    const now = Date.now();
    for (const f of previous.values()) if (f.kind === 'inline' && !next.includes(f) && f.chain.hasInterval) for (const m of this.tickInline(f, now, true)) this.host?.publish(m);
    this.replace(next);
    // A replaced worker finishes what it was given before it ends: those inputs wait for their outputs.
    await Promise.all([...previous.values()].map((f) => (f.kind === 'worker' && !next.includes(f) ? this.retire(f, next) : undefined)));
    return errors;
  }

  /** A worker flow gone from `next` releases what its steps hold first, unless its new version's start did (before taking its context.script). */
  private async retire(f: WorkerFlow, next: readonly ConvertingFlow[]): Promise<void> {
    if (!next.some((n) => n.path === f.path && n.kind === 'worker')) await this.releaseHeld(f);
    await f.runner.retire();
  }

  /** The final onInterval of a worker flow leaving, its outputs published (their inputs were acknowledged when held). */
  private async releaseHeld(f: WorkerFlow): Promise<void> {
    if (this.host === undefined || !f.runner.hasInterval) return;
    try {
      for (const m of await f.runner.tick(Date.now(), true)) this.host.publish(m);
    } catch (err) {
      this.host.log('error', `flow ${f.flow.definition.name}: final onInterval failed: ${errorMessage(err)}`);
    }
  }

  private replace(flows: ConvertingFlow[]): void {
    this.flows = flows;
    this.routes = new Map();
    this.due = this.nextDue();
    this.host?.flushDueChanged?.();
    const filters = filtersOf(flows);
    if (filters.length === this.currentFilters.length && filters.every((f, i) => f === this.currentFilters[i])) return;
    this.currentFilters = filters;
    this.host?.filtersChanged();
  }

  private report(path: string, keeps: boolean, err: unknown): void {
    const text = loadErrorText(path, keeps, err);
    if (this.host === undefined || this.reported.get(path) === text) return;
    this.reported.set(path, text);
    this.host.log('error', text);
    this.host.publish(message(this.errorsTopic, text, { qos: 1 }));
  }

  private load(path: string, previous: ConvertingFlow | undefined): ConvertingFlow {
    const flow = loadFlow(this.flowsDir, path, {}, this.errorsTopic);
    if (previous !== undefined && previous.flow.digest === flow.digest) return previous;
    const accepts = filtersMatcher(mqttFilters(flow.definition));
    // A changed flow goes on counting where its previous version stopped, as in the local mapper.
    const stats = previous?.stats ?? newFlowStats();
    const stepStats = previous?.stepStats ?? new StepStatsTotals();
    const countSteps = this.stats !== undefined && countsSteps(this.stats.steps);
    let made: ConvertingFlow;
    if (flow.definition.steps.some((s) => s.kind === 'script')) {
      const runner = new IsolatedFlow(flow, {
        limits: this.limits,
        errorsTopic: this.errorsTopic,
        mapperStore: () => this.contextEntries(),
        onMapperChanges: (changes) => this.shareMapperChanges(made, changes),
        log: (level, text) => this.host?.log(level, text),
        stats,
        stepStats,
        countSteps,
      });
      made = { kind: 'worker', path, flow, runner, accepts, stats, stepStats };
    } else {
      const init = { flow: flow.definition, scripts: {}, callTimeoutMs: this.limits.callTimeoutMs, mapperStore: this.contextEntries(), scriptStores: {}, now: Date.now(), ...(countSteps && { stepStats: true }) };
      const chain = new FlowChain(init, this.services);
      made = { kind: 'inline', path, flow, chain, accepts, pending: [], stats, stepStats, timed: countSteps };
    }
    this.incoming.push(made);
    return made;
  }

  /** Starts the worker of a new or changed flow, with the context.script of the version it replaces. */
  private async startWorker(f: WorkerFlow, replaced: ConvertingFlow | undefined): Promise<void> {
    // What the old version holds goes out before its context.script is handed over (else held twice).
    if (replaced?.kind === 'worker') await this.releaseHeld(replaced);
    const stores = replaced?.kind === 'worker' ? await replaced.runner.takeScriptStores() : {};
    for (const m of await f.runner.start(stores)) this.host?.publish(m);
  }

  private contextEntries(): [string, string][] {
    return this.context.keys().map((k): [string, string] => [k, this.context.get(k) as string]);
  }

  /** Sets a `context.mapper` key for every flow (the c8y mapper's entities, as thin-edge's steps read them). */
  setContext(key: string, json: string | null): void {
    this.shareMapperChanges(undefined, [[key, json]]);
  }

  /** What one flow (or the mapper) put in context.mapper is seen by the other flows too. */
  private shareMapperChanges(from: ConvertingFlow | undefined, changes: readonly [string, string | null][]): void {
    for (const [key, json] of changes) this.context.set(key, json);
    for (const f of this.flows) if (f !== from) share(f, changes);
    for (const f of this.incoming) if (f !== from && !this.flows.includes(f)) share(f, changes);
  }

  /** The flows each topic goes to, remembered (bounded): matching every flow's filters costs more than its steps. */
  private routes = new Map<string, ConvertingFlow[]>();

  private flowsFor(topic: string): ConvertingFlow[] {
    let flows = this.routes.get(topic);
    if (flows === undefined) {
      flows = this.flows.filter((f) => f.accepts(topic));
      if (this.routes.size >= 10_000) this.routes.clear();
      this.routes.set(topic, flows);
    }
    return flows;
  }

  accepts(topic: string): boolean {
    return this.flowsFor(topic).length > 0;
  }

  convert(msg: Message, now: Date): Message[] {
    const out: Message[] = [];
    let isolated: WorkerFlow[] | undefined;
    for (const f of this.flowsFor(msg.topic)) {
      if (f.kind === 'worker') {
        (isolated ??= []).push(f);
        continue;
      }
      const updates = f.pending;
      f.pending = [];
      const stats = f.stats;
      stats.input++;
      const reply = !f.timed ? f.chain.run([{ topic: msg.topic, payload: msg.payload, time: now.getTime() }], updates) : this.timedRun(f, msg, now, updates);
      if (reply.mapperChanges.length > 0) this.shareMapperChanges(f, reply.mapperChanges);
      const failure = reply.failures[0];
      if (failure !== undefined) {
        stats.error++;
        throw new ConversionError(failure.error);
      }
      stats.output += reply.outputs.length;
      for (const o of reply.outputs) out.push(outputMessage(f.flow.definition, o));
    }
    // Only once the inline flows took it: an input they refuse goes to no flow.
    if (isolated !== undefined) {
      const fm = { topic: msg.topic, payload: msg.payload, time: now.getTime() };
      for (const f of isolated) {
        f.stats.input++;
        this.later.push(f.runner.submit(fm));
      }
    }
    return out;
  }

  /** The chain's run timed: cpu-min/cpu-max of the flow, and its steps' records. */
  private timedRun(f: InlineFlow, msg: Message, now: Date, updates: [string, string | null][]): ReturnType<FlowChain['run']> {
    const started = performance.now();
    const reply = f.chain.run([{ topic: msg.topic, payload: msg.payload, time: now.getTime() }], updates);
    timed(f.stats, performance.now() - started);
    f.stepStats.add(reply.stepStats);
    return reply;
  }

  /**
   * The steps' onInterval when due (every one when `drain`: the mapper stops, what they hold goes out) and
   * the statistics when due. The outputs of inline flows are returned; those of flows with script steps
   * come through `takeLater`, which the runtime calls after each flush.
   */
  flush(now: Date, drain: boolean): Message[] {
    const at = now.getTime();
    const out: Message[] = [];
    if (drain || at >= this.nextTickAt) {
      this.nextTickAt = at + this.tickMs();
      for (const f of this.flows) {
        if (f.kind === 'worker') {
          if (f.runner.hasInterval) this.later.push(f.runner.tick(at, drain));
        } else if (f.chain.hasInterval) out.push(...this.tickInline(f, at, drain));
      }
    }
    if (this.stats !== undefined && !drain && at >= this.nextStatsAt) {
      if (this.nextStatsAt !== 0) out.push(...flowStatsMessages(this.stats, this.flows));
      this.nextStatsAt = at + this.stats.intervalMs;
    }
    this.due = this.nextDue();
    return out;
  }

  nextFlushAt(): Date | undefined {
    return this.due;
  }

  private tickInline(f: InlineFlow, at: number, final: boolean): Message[] {
    const updates = f.pending;
    f.pending = [];
    const reply = f.chain.tick(0, at, final, updates);
    f.stepStats.add(reply.stepStats);
    if (reply.mapperChanges.length > 0) this.shareMapperChanges(f, reply.mapperChanges);
    const def = f.flow.definition;
    const outputs = unpackMessages(reply.outputs);
    f.stats.output += outputs.length;
    f.stats.error += reply.failures.length;
    for (const line of reply.logs) this.host?.log('info', `flow ${def.name}: ${line}`);
    const reports = reply.failures.map((failure) => failureMessage(def, failure, this.errorsTopic));
    for (const r of reports) this.host?.log('warn', payloadText(r));
    return [...outputs.map((o) => outputMessage(def, o)), ...reports];
  }

  /** The smallest step interval of the flows with onInterval, at most TICK_MS; undefined when none has one. */
  private tickMs(): number {
    let ms = TICK_MS;
    for (const f of this.flows) if (hasInterval(f)) for (const s of f.flow.definition.steps) ms = Math.min(ms, Math.max(1, s.intervalMs));
    return ms;
  }

  private nextDue(): Date | undefined {
    const ticks = this.flows.some(hasInterval);
    const at = Math.min(ticks ? this.nextTickAt : Infinity, this.stats !== undefined ? this.nextStatsAt : Infinity);
    if (at === Infinity) return undefined;
    return this.due?.getTime() === at ? this.due : new Date(at);
  }

  takeLater(): Promise<Message[]> | undefined {
    if (this.later.length === 0) return undefined;
    const later = this.later;
    this.later = [];
    return later.length === 1 ? (later[0] as Promise<Message[]>) : Promise.all(later).then((parts) => parts.flat());
  }
}

function hasInterval(f: ConvertingFlow): boolean {
  return f.kind === 'worker' ? f.runner.hasInterval : f.chain.hasInterval;
}

/** The flow's fastest and slowest input, in nanoseconds (thin-edge's cpu-min/cpu-max). */
function timed(stats: FlowStats, ms: number): void {
  const ns = ms * 1e6;
  if (stats.minNs === undefined || ns < stats.minNs) stats.minNs = ns;
  if (stats.maxNs === undefined || ns > stats.maxNs) stats.maxNs = ns;
}

function share(f: ConvertingFlow, changes: readonly [string, string | null][]): void {
  if (f.kind === 'worker') f.runner.shareMapperChanges(changes);
  else f.pending.push(...changes);
}

function filtersOf(flows: readonly ConvertingFlow[]): string[] {
  return [...new Set(flows.flatMap((f) => mqttFilters(f.flow.definition)))];
}

/** Reloads the converter's flows when a file of `flowsDir` changes, until `stop`; the outcome goes to the log (load errors also to te/errors, once the mapper runs). */
export function reloadOnChange(converter: FlowsConverter, flowsDir: string, logger: Logger, stop: AbortSignal): void {
  const watch = new PathsWatch(
    [flowsDir],
    () => {
      void converter.reload().then(
        (errors) => logger.info({ flowsDir, failed: errors.length }, 'flows reloaded'),
        (err: unknown) => logger.error({ err, flowsDir }, 'flows not reloaded'),
      );
    },
    2000,
    () => treeFingerprint(flowsDir),
  );
  watch.start();
  stop.addEventListener('abort', () => watch.stop(), { once: true });
}

/**
 * Writes the built-in flow and its `.toml.template` witness (thin-edge's scheme): the flow is written
 * when missing or still equal to the previous template (not edited by the user); the template always.
 */
export function installBuiltinFlow(flowsDir: string, name: string, toml: string): void {
  const flow = join(flowsDir, `${name}.toml`);
  const template = `${flow}.template`;
  // As thin-edge: a flow without its template is the user's too (e.g. put there before the mapper first ran).
  const edited = existsSync(flow) && (!existsSync(template) || readText(flow) !== readText(template));
  const disabled = existsSync(`${flow}.disabled`) || (!existsSync(flow) && existsSync(template));
  if (!edited && !disabled) writeIfChanged(flow, toml);
  writeIfChanged(template, toml);
}

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

/** Unchanged files are not rewritten: a read-only directory that already holds them works, and no reload is triggered. */
function writeIfChanged(path: string, text: string): void {
  if (!existsSync(path) || readText(path) !== text) writeFileSync(path, text);
}
