import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import { EXIT_RESTART_REQUIRED, type Component, type ComponentInstance, type ComponentKind } from './supervisor';

/** The shape of every daemon's composition root: runs until SIGTERM/SIGINT, resolves with an exit code. */
export type ComponentMain = (argv: string[], env: NodeJS.ProcessEnv) => Promise<number>;

/** The process signals a daemon's main may listen to; in a supervised process they are the supervisor's. */
const SIGNALS: ReadonlySet<string | symbol> = new Set(['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2']);

const LISTENER_METHODS = ['on', 'addListener', 'once', 'prependListener', 'prependOnceListener', 'off', 'removeListener'] as const;
type ListenerMethod = (typeof LISTENER_METHODS)[number];

/**
 * The signals of one supervised daemon instance. A main that waits for SIGTERM on `process` finds its
 * listener here instead, so the supervisor can stop that instance alone, in its turn, and start it again.
 */
export class SignalScope extends EventEmitter {
  private readonly pending = new Set<string>();
  /** Made inside the component's async context, so the stop it triggers runs (and fails) as the component's. */
  private readonly resource = new AsyncResource('tedge-component-signals');

  constructor(readonly component: string) {
    super();
    // A stop asked before the main listened (still connecting) is handed over as soon as it listens.
    this.on('newListener', (event: string | symbol) => {
      if (typeof event === 'string' && this.pending.delete(event)) setImmediate(() => this.deliver(event));
    });
  }

  deliver(signal: string): void {
    if (this.listenerCount(signal) === 0) {
      this.pending.add(signal);
      return;
    }
    this.resource.runInAsyncScope(() => this.emit(signal, signal));
  }
}

/**
 * Routes the signal listeners a daemon's main registers on `process` to that daemon's SignalScope.
 * Code outside any scope (the supervisor itself) still gets the real process signals.
 */
export class SignalScopes {
  private readonly storage = new AsyncLocalStorage<SignalScope>();

  /** Patches `proc`'s listener methods for signal events; returns the function that undoes it. */
  install(proc: NodeJS.Process): () => void {
    const target = proc as unknown as Record<ListenerMethod, (event: string | symbol, listener: (...args: unknown[]) => void) => unknown>;
    const originals = new Map<ListenerMethod, (event: string | symbol, listener: (...args: unknown[]) => void) => unknown>();
    for (const method of LISTENER_METHODS) {
      const original = target[method];
      originals.set(method, original);
      const storage = this.storage;
      target[method] = function (this: unknown, event: string | symbol, listener: (...args: unknown[]) => void): unknown {
        const scope = SIGNALS.has(event) ? storage.getStore() : undefined;
        if (scope === undefined) return original.call(this, event, listener);
        scope[method](event, listener);
        return proc;
      };
    }
    return () => {
      for (const [method, original] of originals) target[method] = original;
    };
  }

  /** Runs `fn` (a daemon's main) so that the signal listeners it registers, now or later, land in `scope`. */
  run<T>(scope: SignalScope, fn: () => T): T {
    return this.storage.run(scope, fn);
  }
}

/**
 * A daemon's `main(argv, env)` as a supervised component: started in its own signal scope, stopped with a
 * SIGTERM of that scope alone. Its main resolving while nobody asked it to stop is a crash; resolving with
 * EXIT_RESTART_REQUIRED asks for a restart of the whole process.
 */
export function mainComponent(opts: {
  readonly name: string;
  readonly kind: ComponentKind;
  /** Loaded when first started, so that a component that is not configured costs nothing. */
  readonly load: () => ComponentMain;
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly signals: SignalScopes;
}): Component {
  return {
    name: opts.name,
    kind: opts.kind,
    start(ctx): Promise<ComponentInstance> {
      const main = opts.load();
      const scope = new SignalScope(opts.name);
      let stopRequested = false;
      const exited = opts.signals.run(scope, () => main([...opts.argv], opts.env));
      exited.then(
        (code) => {
          if (stopRequested) return;
          if (code === EXIT_RESTART_REQUIRED) ctx.restartRequired(`${opts.name} exited asking for a restart`);
          else ctx.failed(new Error(`${opts.name} exited with code ${code}`));
        },
        (err: unknown) => {
          if (!stopRequested) ctx.failed(err);
        },
      );
      return Promise.resolve({
        signal: (name: string) => scope.deliver(name),
        async stop(): Promise<void> {
          stopRequested = true;
          scope.deliver('SIGTERM');
          await exited.catch(() => {});
        },
      });
    },
  };
}
