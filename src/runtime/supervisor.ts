import { AsyncLocalStorage } from 'node:async_hooks';
import type { Clock, Timers } from '../core/clock';
import { errorMessage } from '../core/errors';
import type { Logger } from '../log/logger';

/**
 * The single-process supervisor behind `tedge run all` (thin-edge.io's single-process-supervisor spec):
 * components (the agent, the mappers) run in one process, each with its own MQTT connection; one that
 * fails is stopped and started again with back-off while the others keep running; one that needs the
 * binary re-executed makes the whole process drain and exit non-zero, for its service manager to restart.
 */

/** The exit code of `tedge run all` when a component asks for a restart of the process (EX_TEMPFAIL). */
export const EXIT_RESTART_REQUIRED = 75;

export type ComponentKind = 'agent' | 'mapper';

/** What a component may tell its supervisor, besides throwing. Calls from a replaced instance are ignored. */
export interface ComponentContext {
  /** The component failed by itself (its main loop ended, it caught a fatal error): it is restarted. */
  failed(error: unknown): void;
  /** Only re-executing the binary makes an update effective (self-update, its own config): drain all, exit non-zero. */
  restartRequired(reason: string): void;
}

export interface ComponentInstance {
  /** Stops the instance and releases what it holds (its MQTT connection first of all). */
  stop(): Promise<void>;
  /** Hands a process signal (SIGHUP: reload the log level) to this instance alone; optional. */
  signal?(name: string): void;
}

export interface Component {
  /** As in logs and health topics: tedge-agent, tedge-mapper-c8y, ... */
  readonly name: string;
  readonly kind: ComponentKind;
  /** Builds and starts a fresh instance. A rejection counts as a crash. */
  start(ctx: ComponentContext): Promise<ComponentInstance>;
}

export interface RestartPolicy {
  /** Delay before the first restart; doubled for each further crash within the window. */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** More crashes than this within `windowMs` and the supervisor gives up on the component (the process goes on). */
  readonly maxRestarts: number;
  readonly windowMs: number;
  /** How long a component may take to stop before it is abandoned. */
  readonly stopTimeoutMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 1_000,
  maxDelayMs: 60_000,
  maxRestarts: 10,
  windowMs: 10 * 60_000,
  // Each component's own stop is bounded (Lifecycle's deadline, 4.5 s); this is the backstop.
  stopTimeoutMs: 5_000,
};

export type ComponentState = 'idle' | 'starting' | 'running' | 'restarting' | 'backoff' | 'stopping' | 'stopped' | 'given-up';

export interface ComponentStatus {
  readonly name: string;
  readonly kind: ComponentKind;
  readonly state: ComponentState;
  /** Restarts after crashes, since the supervisor started. */
  readonly crashes: number;
  readonly lastError?: string;
}

/** Why the supervisor wants the process to end by itself. */
export interface SupervisorExit {
  readonly code: number;
  readonly reason: string;
}

interface Slot {
  readonly component: Component;
  state: ComponentState;
  /** Bumped at every start: a context or an error of an older instance no longer counts. */
  generation: number;
  instance: ComponentInstance | undefined;
  starting: Promise<void> | undefined;
  crashTimes: number[];
  crashes: number;
  lastError: string | undefined;
  cancelBackoff: (() => void) | undefined;
}

interface Scope {
  readonly name: string;
  readonly generation: number;
}

export class Supervisor {
  private readonly slots: Slot[];
  /** Which component (instance) the running code belongs to: errors that escape it are attributed by this. */
  private readonly scopes = new AsyncLocalStorage<Scope>();
  private stopping: Promise<{ readonly abandoned: readonly string[] }> | undefined;
  private exitRequested: SupervisorExit | undefined;
  private resolveExit: (exit: SupervisorExit) => void = () => {};
  /** Settles when the supervisor wants the process to end (a restart was required). */
  readonly exit: Promise<SupervisorExit>;

  constructor(
    components: readonly Component[],
    private readonly deps: {
      readonly clock: Clock;
      readonly timers: Timers;
      readonly logger: Logger;
      readonly policy?: Partial<RestartPolicy>;
      /** Told about every state change, e.g. to stop the systemd watchdog pings when a component gives up. */
      readonly onChange?: (status: readonly ComponentStatus[]) => void;
    },
  ) {
    const names = new Set<string>();
    for (const c of components) {
      if (names.has(c.name)) throw new Error(`two supervised components are named ${c.name}`);
      names.add(c.name);
    }
    // The agent first, then the mappers (best-effort ordering: nobody waits for anybody's readiness).
    const ordered = [...components.filter((c) => c.kind === 'agent'), ...components.filter((c) => c.kind !== 'agent')];
    this.slots = ordered.map((component) => ({
      component,
      state: 'idle',
      generation: 0,
      instance: undefined,
      starting: undefined,
      crashTimes: [],
      crashes: 0,
      lastError: undefined,
      cancelBackoff: undefined,
    }));
    this.exit = new Promise((resolve) => (this.resolveExit = resolve));
  }

  private get policy(): RestartPolicy {
    return { ...DEFAULT_RESTART_POLICY, ...this.deps.policy };
  }

  status(): ComponentStatus[] {
    return this.slots.map((s) => ({
      name: s.component.name,
      kind: s.component.kind,
      state: s.state,
      crashes: s.crashes,
      ...(s.lastError === undefined ? {} : { lastError: s.lastError }),
    }));
  }

  /**
   * Starts every component, agent first, without waiting for one to be up before starting the next;
   * resolves when each has started or failed (a failed start is a crash: it is retried with back-off).
   */
  async start(): Promise<void> {
    for (const slot of this.slots) this.launch(slot);
    await Promise.all(this.slots.map((s) => s.starting));
  }

  /**
   * Stops every component, all at once: each bounds its own stop, and one after the other their
   * deadlines would add up past what systemd (and a user at a prompt) waits. A component that has not
   * stopped after `stopTimeoutMs` is abandoned; resolves with the names of those abandoned.
   */
  stop(): Promise<{ readonly abandoned: readonly string[] }> {
    this.stopping ??= (async () => {
      const abandoned: string[] = [];
      await Promise.all(
        [...this.slots].reverse().map(async (slot) => {
          slot.cancelBackoff?.();
          slot.cancelBackoff = undefined;
          if (slot.state === 'given-up' || slot.state === 'idle') {
            slot.state = 'stopped';
            return;
          }
          slot.state = 'stopping';
          this.changed();
          if (!(await this.stopInstance(slot))) abandoned.push(slot.component.name);
          slot.state = 'stopped';
          this.changed();
        }),
      );
      return { abandoned };
    })();
    return this.stopping;
  }

  /** Hands a signal to every running instance (SIGHUP: each daemon reads its log level again). */
  signalAll(name: string): void {
    for (const slot of this.slots) if (slot.state === 'running') slot.instance?.signal?.(name);
  }

  /**
   * Stops and starts again every running component of a kind (SIGUSR1 restarts the mappers).
   * A component already restarting, in back-off or given up is left alone: requests do not stack.
   */
  restartAll(kind: ComponentKind): void {
    for (const slot of this.slots) {
      if (slot.component.kind !== kind || slot.state !== 'running' || this.stopping) continue;
      slot.state = 'restarting';
      this.changed();
      this.deps.logger.info({ component: slot.component.name }, 'restarting on request');
      void this.stopInstance(slot).then(() => {
        if (slot.state === 'restarting' && !this.stopping) this.launch(slot);
      });
    }
  }

  /**
   * An error that escaped to the process (uncaughtException / unhandledRejection): when it was raised by
   * code of a component, that component crashed and is restarted; returns false when no component owns it.
   */
  handleUncaught(error: unknown): boolean {
    const scope = this.scopes.getStore();
    if (scope === undefined) return false;
    const slot = this.slots.find((s) => s.component.name === scope.name);
    if (slot === undefined) return false;
    this.crash(slot, scope.generation, error);
    return true;
  }

  /** The component the current code runs for, if any (for log attribution of process-level events). */
  currentComponent(): string | undefined {
    return this.scopes.getStore()?.name;
  }

  private launch(slot: Slot): void {
    const generation = ++slot.generation;
    slot.state = 'starting';
    slot.cancelBackoff = undefined;
    this.changed();
    const ctx: ComponentContext = {
      failed: (error) => this.crash(slot, generation, error),
      restartRequired: (reason) => this.requireRestart(slot, generation, reason),
    };
    const { component } = slot;
    // Everything the component creates from here (sockets, timers, promises) carries its scope.
    const started = this.scopes.run({ name: component.name, generation }, () => {
      try {
        return component.start(ctx);
      } catch (err) {
        return Promise.reject(err);
      }
    });
    slot.starting = started.then(
      (instance) => {
        if (slot.generation !== generation || slot.state !== 'starting') {
          // Replaced or stopped while it was starting: this instance must not live on.
          void this.stopWithTimeout(component.name, instance);
          return;
        }
        slot.instance = instance;
        slot.state = 'running';
        this.deps.logger.info({ component: component.name }, 'started');
        this.changed();
      },
      (err: unknown) => this.crash(slot, generation, err),
    );
  }

  private crash(slot: Slot, generation: number, error: unknown): void {
    const { name } = slot.component;
    if (generation !== slot.generation || this.stopping || !['starting', 'running', 'restarting'].includes(slot.state)) {
      this.deps.logger.debug({ component: name, err: error }, 'error of a component instance that is already being replaced');
      return;
    }
    const policy = this.policy;
    const now = this.deps.clock.now().getTime();
    slot.crashTimes = [...slot.crashTimes.filter((t) => now - t < policy.windowMs), now];
    slot.crashes++;
    slot.lastError = errorMessage(error);
    slot.state = 'backoff';
    this.changed();
    const crashes = slot.crashTimes.length;
    if (crashes > policy.maxRestarts) {
      this.deps.logger.error({ component: name, err: error }, `crashed ${crashes} times within ${policy.windowMs / 1000} s: giving up on it (the other components go on)`);
      void this.stopInstance(slot).then(() => {
        if (slot.state !== 'backoff') return;
        slot.state = 'given-up';
        this.changed();
      });
      return;
    }
    const delay = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (crashes - 1));
    this.deps.logger.error({ component: name, err: error, restartInMs: delay }, `crashed: ${errorMessage(error)}; restarting in ${delay} ms`);
    void this.stopInstance(slot).then(() => {
      if (slot.state !== 'backoff' || this.stopping) return;
      slot.cancelBackoff = this.deps.timers.after(delay, () => {
        slot.cancelBackoff = undefined;
        if (slot.state === 'backoff' && !this.stopping) this.launch(slot);
      });
    });
  }

  private requireRestart(slot: Slot, generation: number, reason: string): void {
    if (generation !== slot.generation || this.exitRequested) return;
    this.exitRequested = { code: EXIT_RESTART_REQUIRED, reason: `${slot.component.name}: ${reason}` };
    this.deps.logger.warn({ component: slot.component.name, reason }, 'restart of the process required: draining all components');
    this.resolveExit(this.exitRequested);
  }

  /**
   * Waits for a start in progress, then stops the instance; never throws, never waits beyond the stop
   * timeout. False when the component was abandoned.
   */
  private async stopInstance(slot: Slot): Promise<boolean> {
    const pending = slot.starting;
    if (pending && (await this.withTimeout(pending, this.policy.stopTimeoutMs)) === 'timeout') {
      this.deps.logger.error({ component: slot.component.name }, `still starting after ${this.policy.stopTimeoutMs} ms: abandoned`);
      return false;
    }
    const instance = slot.instance;
    slot.instance = undefined;
    return instance === undefined || (await this.stopWithTimeout(slot.component.name, instance));
  }

  private async stopWithTimeout(name: string, instance: ComponentInstance): Promise<boolean> {
    let stopped: Promise<void>;
    try {
      stopped = instance.stop();
    } catch (err) {
      stopped = Promise.reject(err);
    }
    const outcome = await this.withTimeout(
      stopped.then(
        () => 'stopped' as const,
        (err: unknown) => {
          this.deps.logger.error({ component: name, err }, 'failed to stop cleanly');
          return 'failed' as const;
        },
      ),
      this.policy.stopTimeoutMs,
    );
    if (outcome === 'timeout') this.deps.logger.error({ component: name }, `did not stop within ${this.policy.stopTimeoutMs} ms: abandoned`);
    return outcome !== 'timeout';
  }

  private withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
    return new Promise((resolve) => {
      const cancel = this.deps.timers.after(ms, () => resolve('timeout'));
      promise.then(
        (v) => {
          cancel();
          resolve(v);
        },
        () => {
          // Callers pass promises that do not reject; should one do so, it is over all the same.
          cancel();
          resolve('timeout');
        },
      );
    });
  }

  private changed(): void {
    this.deps.onChange?.(this.status());
  }
}
