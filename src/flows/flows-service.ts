import type { Bus } from '../bus/bus';
import type { Logger } from '../log/logger';
import { PathsWatch } from '../runtime/paths-watch';
import type { Service } from '../runtime/service';
import type { FlowEngine } from './flow-engine';
import { treeFingerprint } from './flow-loader';
import { FlowInputs } from './inputs';

/**
 * The flows of a mapper on the bus: subscribes to what the flows listen to (again after a reload),
 * feeds their file and process inputs, calls onInterval, publishes their statistics, and reloads them
 * when a file of the flows directory changes.
 */
export class FlowsService implements Service {
  readonly name = 'flows';
  private subscribed = new Set<string>();
  private watch: PathsWatch | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly inputs: FlowInputs;
  private reloading: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      readonly bus: Bus;
      readonly engine: FlowEngine;
      readonly flowsDir: string;
      readonly logger: Logger;
      readonly statsIntervalMs: number;
      /** How often onInterval is considered; each step runs at its own `interval`. */
      readonly tickMs?: number;
      /** How long a stop waits for the final onInterval (1 s unless told). */
      readonly finalIntervalMs?: number;
      /** The service's health checks (`cmd/health/check`), answered before the flows see anything. */
      readonly health?: { readonly filters: readonly string[]; handle(topic: string): boolean };
    },
  ) {
    this.inputs = new FlowInputs(deps.engine, deps.logger);
  }

  async start(): Promise<void> {
    const { bus, engine } = this.deps;
    bus.onMessage((m) => {
      if (this.deps.health?.handle(m.topic)) return;
      void engine.dispatch(m);
    });
    await engine.sync();
    if (this.deps.health) await bus.subscribe(this.deps.health.filters, 1);
    await this.resubscribe();
    this.inputs.sync(engine.definitions());
    this.watch = new PathsWatch([this.deps.flowsDir], () => this.reload(), 2000, () => treeFingerprint(this.deps.flowsDir));
    this.watch.start();
    this.every(this.deps.tickMs ?? 250, () => void engine.tick());
    this.every(this.deps.statsIntervalMs, () => {
      for (const m of engine.statsMessages()) void bus.publish(m).catch(() => {});
    });
  }

  async stop(): Promise<void> {
    this.watch?.stop();
    for (const t of this.timers) clearInterval(t);
    this.inputs.stop();
    await this.reloading;
    await this.releaseHeld();
    await this.deps.engine.stop();
  }

  /**
   * The final onInterval of every step (as thin-edge's `--final-on-interval`): what they hold is published
   * before the bus closes. Bounded, so that a flow that does not answer cannot hold the stop up.
   */
  private async releaseHeld(): Promise<void> {
    const ms = this.deps.finalIntervalMs ?? 1000;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
    const final = this.deps.engine.tick(true).then(
      () => 'done' as const,
      (err: unknown) => this.deps.logger.error({ err }, 'final onInterval failed'),
    );
    if ((await Promise.race([final, late])) === 'late') this.deps.logger.warn(`final onInterval not done within ${ms} ms: what the flows still hold is lost`);
    clearTimeout(timer);
  }

  /** Serialised: a second change while one reload runs waits for it. */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(async () => {
      await this.deps.engine.sync();
      await this.resubscribe();
      this.inputs.sync(this.deps.engine.definitions());
    });
    return this.reloading;
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  private async resubscribe(): Promise<void> {
    const wanted = new Set(this.deps.engine.filters());
    const added = [...wanted].filter((f) => !this.subscribed.has(f));
    const removed = [...this.subscribed].filter((f) => !wanted.has(f));
    if (added.length > 0) await this.deps.bus.subscribe(added, 1);
    if (removed.length > 0) await this.deps.bus.unsubscribe(removed);
    this.subscribed = wanted;
  }
}
