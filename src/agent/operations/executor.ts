import type { Bus } from '../../bus/bus';
import { parseCommand } from '../../core/commands';
import { errorMessage } from '../../core/errors';
import type { JsonObject } from '../../core/json';
import { type Message, message, payloadText } from '../../core/message';
import { type EntityTopicId, parseTopic, topicFor } from '../../core/topics';
import type { Logger } from '../../log/logger';
import type { Service } from '../../runtime/service';
import { CapabilityPublisher } from './capabilities';
import type { CommandLogs } from './command-log';
import type { CommandStore } from './command-store';
import { type CommandEvent, type Effect, type Tracked, transition } from './command-transitions';
import type { CommandRun, HandlerContext, OperationHandler, Outcome } from './operation';

/** What every handler context shares; the executor adds each handler's own `capabilityChanged`. */
export type HandlerEnvironment = Omit<HandlerContext, 'capabilityChanged'>;

export interface CommandExecutorOptions {
  readonly topicRoot: string;
  /** The only entity whose commands this agent runs (mqtt.device_topic_id). */
  readonly device: EntityTopicId;
  /**
   * Filters this service subscribes itself. Empty on the main agent, whose entity store already
   * subscribes to `te/+/+/+/+/#`: an overlapping subscription would make mosquitto deliver twice.
   */
  readonly filters: readonly string[];
  /** How long `stop()` waits for running handlers to honour their abort signal. */
  readonly stopDeadlineMs?: number;
}

interface CommandKey {
  readonly topic: string;
  readonly operation: string;
  readonly cmdId: string;
}

interface Entry {
  state: Tracked | undefined;
  /** Effects of successive events of one command run in order, one batch after the other. */
  chain: Promise<void>;
  logOpened: boolean;
  run?: AbortController;
}

/**
 * The agent's one command framework: runs `te/<device>/cmd/<op>/<id>` through the rules of
 * command-transitions.ts with the handler registered for `<op>`. It owns everything on the MQTT side
 * and on disk: states are persisted (CommandStore) before they are published and before a handler
 * acts; a message is acknowledged to the broker only once its state is persisted; after a restart the
 * persisted commands are resumed or failed before any new message is looked at.
 *
 * Ignored (acknowledged, nothing published): commands of other entities, and operations without a
 * handler here (another component may serve them, e.g. a user's own executor).
 */
export class CommandExecutor implements Service {
  readonly name = 'operations';
  private readonly handlers = new Map<string, OperationHandler>();
  private readonly contexts = new Map<string, HandlerContext>();
  private readonly entries = new Map<string, Entry>();
  private readonly runs = new Set<Promise<void>>();
  private readonly capabilities: CapabilityPublisher;
  /** Messages that arrive before the persisted commands are restored; undefined once started. */
  private early: Array<{ msg: Message; ack: () => void }> | undefined = [];
  private stopping = false;
  private started = false;
  /** The last payload seen on each command topic of this device, for `run.commands.watch` (sub-operations). */
  private readonly lastCommands = new Map<string, JsonObject>();
  private readonly watchers = new Map<string, Set<(payload: JsonObject | undefined) => void>>();
  /** `te/<device>/cmd/`: every command topic of this agent starts with it. */
  private readonly commandPrefix: string;

  constructor(
    private readonly deps: {
      readonly bus: Bus;
      readonly handlers: readonly OperationHandler[];
      readonly environment: HandlerEnvironment;
      readonly store: CommandStore;
      readonly logs: CommandLogs;
      readonly logger: Logger;
      readonly options: CommandExecutorOptions;
    },
  ) {
    for (const h of deps.handlers) {
      if (this.handlers.has(h.operation)) throw new Error(`two handlers for the operation '${h.operation}'`);
      this.handlers.set(h.operation, h);
    }
    this.commandPrefix = topicFor(deps.options.device, { kind: 'command-capability', operation: '' }, deps.options.topicRoot);
    this.capabilities = new CapabilityPublisher(deps.bus, deps.options.topicRoot, deps.options.device, deps.logger);
  }

  /** The operations served, for logs and --help. */
  get operations(): string[] {
    return [...this.handlers.keys()];
  }

  /**
   * Serves one more operation (a workflow file added): before `start`, as if passed to the constructor;
   * after it, started and its capability published at once. Replacing a handler stops the old one; its
   * running commands finish with it.
   */
  async setHandler(handler: OperationHandler): Promise<void> {
    const old = this.handlers.get(handler.operation);
    this.handlers.set(handler.operation, handler);
    if (!this.started || this.stopping) return;
    if (old !== undefined && old !== handler) await this.stopHandler(old);
    await this.startHandler(handler);
  }

  /** Stops serving an operation (its workflow file removed): stopped, its capability cleared. */
  async removeHandler(operation: string): Promise<void> {
    const old = this.handlers.get(operation);
    if (old === undefined) return;
    this.handlers.delete(operation);
    if (!this.started || this.stopping) return;
    await this.stopHandler(old);
    const ctx = this.contextOf(operation);
    this.contexts.delete(operation);
    await this.capabilities.publish({ operation, capability: async () => undefined, execute: async () => ({ status: 'failed', reason: 'withdrawn' }) }, ctx);
  }

  private async startHandler(handler: OperationHandler): Promise<void> {
    const { environment } = this.deps;
    const ctx: HandlerContext = {
      ...environment,
      capabilityChanged: () => this.republish(handler, ctx),
    };
    this.contexts.set(handler.operation, ctx);
    try {
      await handler.start?.(ctx);
    } catch (err) {
      // One broken operation (a plugin directory it cannot watch) does not take the others down.
      environment.reportError(`the ${handler.operation} operation could not start: ${errorMessage(err)}`);
    }
    await this.capabilities.publish(handler, ctx);
  }

  private async stopHandler(handler: OperationHandler): Promise<void> {
    try {
      await handler.stop?.();
    } catch (err) {
      this.deps.logger.warn({ err, operation: handler.operation }, 'handler did not stop cleanly');
    }
  }

  async start(): Promise<void> {
    const { bus, options, logger } = this.deps;
    this.started = true;
    for (const handler of [...this.handlers.values()]) await this.startHandler(handler);
    // A broker restarted without persistence has lost the retained capabilities: say them again.
    let connected = true;
    bus.onConnectionChange((now) => {
      if (now && !connected) for (const handler of this.handlers.values()) this.republish(handler, this.contextOf(handler.operation));
      connected = now;
    });
    this.restore();
    await bus.subscribe(options.filters, 1);
    const early = this.early ?? [];
    this.early = undefined;
    for (const { msg, ack } of early) this.handle(msg, ack);
    logger.info({ operations: this.operations, device: options.device }, 'serving operations');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    // A handler stopped here is resumed (or failed) at the next start: its persisted state is left as is.
    for (const entry of this.entries.values()) entry.run?.abort();
    await withDeadline(Promise.allSettled([...this.runs]), this.deps.options.stopDeadlineMs ?? 2000);
    for (const handler of this.handlers.values()) await this.stopHandler(handler);
    await withDeadline(Promise.allSettled([...this.entries.values()].map((e) => e.chain)), 2000);
  }

  /**
   * Every message the agent receives. Calls `ack` once the message needs no redelivery: right away when it
   * is not a command of ours, after the resulting state is persisted (and published) when it is.
   */
  handle(msg: Message, ack: () => void): void {
    // The main agent sees all the telemetry of the bus: one string comparison turns it away.
    const t = msg.topic.startsWith(this.commandPrefix) ? parseTopic(msg.topic, this.deps.options.topicRoot) : undefined;
    if (t?.channel.kind === 'command' && t.entity === this.deps.options.device) this.observe(msg);
    if (t?.channel.kind !== 'command' || t.entity !== this.deps.options.device || !this.handlers.has(t.channel.operation)) {
      // At once, even before start: the broker sends only so many QoS 1 messages without their PUBACK.
      ack();
      return;
    }
    if (this.early) {
      this.early.push({ msg, ack });
      return;
    }
    // Stopping: no PUBACK, so the broker hands the message over again after the restart.
    if (this.stopping) return;
    const key = { topic: msg.topic, operation: t.channel.operation, cmdId: t.channel.cmdId };
    const event = toEvent(msg);
    const workflow = this.handlers.get(key.operation)?.managesStates === true;
    this.dispatch(key, event.kind === 'request' && workflow ? { ...event, workflow } : event).then(ack, ack);
  }

  /** Remembers the last state of every command of this device and tells who watches it (a parent workflow). */
  private observe(msg: Message): void {
    const event = toEvent(msg);
    const payload = event.kind === 'request' ? event.payload : undefined;
    if (payload === undefined) this.lastCommands.delete(msg.topic);
    else this.lastCommands.set(msg.topic, payload);
    for (const listener of this.watchers.get(msg.topic) ?? []) listener(payload);
  }

  private commandTopic(operation: string, cmdId: string): string {
    return topicFor(this.deps.options.device, { kind: 'command', operation, cmdId }, this.deps.options.topicRoot);
  }

  /** Persisted commands first, so that the echo of their retained states is recognised. */
  private restore(): void {
    const { store, logger, options, environment } = this.deps;
    const report = store.load();
    for (const bad of report.unreadable) {
      environment.reportError(`cannot read the persisted command ${bad.file}: ${bad.reason}`);
    }
    let restored = 0;
    for (const command of report.commands) {
      const t = parseTopic(command.topic, options.topicRoot);
      // Another agent's file in a shared state directory: not ours to touch.
      if (t?.channel.kind !== 'command' || t.entity !== options.device) continue;
      const handler = this.handlers.get(t.channel.operation);
      restored++;
      void this.dispatch({ topic: command.topic, operation: t.channel.operation, cmdId: t.channel.cmdId }, { kind: 'restored', payload: command.payload, resumable: handler?.resume !== undefined, delivered: command.delivered === true, workflow: handler?.managesStates === true });
    }
    logger.info({ dir: store.dir, restored, unreadable: report.unreadable.length }, 'persisted commands restored');
  }

  /** Applies the event now; its effects run after those of the previous event of the same command. */
  private dispatch(key: CommandKey, event: CommandEvent): Promise<void> {
    const entry = this.entries.get(key.topic) ?? { state: undefined, chain: Promise.resolve(), logOpened: false };
    this.entries.set(key.topic, entry);
    const step = transition(entry.state, event);
    entry.state = step.state;
    const done = entry.chain.then(() => this.runEffects(key, entry, step.effects));
    const settled = done.catch((err: unknown) => this.deps.logger.error({ err, topic: key.topic }, 'command effects failed'));
    entry.chain = settled;
    void settled.then(() => {
      // Forgotten once nothing is pending: a later command with the same id starts afresh.
      if (entry.chain === settled && entry.state === undefined && this.entries.get(key.topic) === entry) this.entries.delete(key.topic);
    });
    return done;
  }

  private async runEffects(key: CommandKey, entry: Entry, effects: readonly Effect[]): Promise<void> {
    const { store, logs, bus, logger } = this.deps;
    for (const effect of effects) {
      switch (effect.kind) {
        case 'log':
          if (!entry.logOpened) {
            logs.open(key.operation, key.cmdId);
            entry.logOpened = true;
          }
          logs.append(key.operation, key.cmdId, effect.line);
          logger.info({ topic: key.topic }, effect.line);
          break;
        case 'persist':
          try {
            store.save(key.operation, key.cmdId, { topic: key.topic, payload: effect.payload, ...(effect.delivered === true && { delivered: true }) });
          } catch (err) {
            const reason = `cannot persist the command state in ${store.dir}: ${errorMessage(err)}`;
            logger.error({ err, topic: key.topic }, reason);
            // Terminal: publish it anyway, the broker is then the only record. Otherwise never act unpersisted.
            if (effect.payload['status'] !== 'successful' && effect.payload['status'] !== 'failed') {
              void this.dispatch(key, { kind: 'finished', outcome: { status: 'failed', reason } });
              return;
            }
          }
          break;
        case 'publish':
          await bus.publish(message(key.topic, JSON.stringify(effect.payload), { qos: 1, retain: true }));
          break;
        case 'forget':
          try {
            store.remove(key.operation, key.cmdId);
          } catch (err) {
            logger.warn({ err, topic: key.topic }, 'cannot remove the command state file');
          }
          break;
        case 'prepare': {
          const handler = this.handlers.get(key.operation);
          if (handler?.prepare === undefined) break;
          try {
            await handler.prepare(this.commandRun(key, entry, effect.payload));
          } catch (err) {
            void this.dispatch(key, { kind: 'finished', outcome: { status: 'failed', reason: errorMessage(err) } });
            return;
          }
          break;
        }
        case 'run':
          this.startRun(key, entry, effect.mode, effect.payload);
          break;
      }
    }
  }

  /** In the background: a capability that cannot be published now is published at the next reconnection. */
  private republish(handler: OperationHandler, ctx: HandlerContext): void {
    if (this.stopping) return;
    this.capabilities.publish(handler, ctx).catch((err: unknown) => this.deps.logger.warn({ err, operation: handler.operation }, 'cannot publish the capability'));
  }

  private contextOf(operation: string): HandlerContext {
    const ctx = this.contexts.get(operation);
    // Contexts are made in start(), before any command is restored or handled.
    if (ctx === undefined) throw new Error(`no context for the operation '${operation}': the executor is not started`);
    return ctx;
  }

  /** The handler's view of one command; its signal aborts when the agent stops. */
  private commandRun(key: CommandKey, entry: Entry, payload: JsonObject): CommandRun {
    const controller = entry.run ?? new AbortController();
    entry.run = controller;
    return {
      entity: this.deps.options.device,
      operation: key.operation,
      cmdId: key.cmdId,
      payload,
      log: (line: string): void => this.deps.logs.append(key.operation, key.cmdId, line),
      checkpoint: (update) => this.dispatch(key, { kind: 'checkpoint', update }),
      advance: (status, update) => this.dispatch(key, { kind: 'advance', status, update }),
      commands: {
        publish: async (operation, cmdId, next) => {
          const topic = this.commandTopic(operation, cmdId);
          // Known at once, not only at the echo: a watch that follows must not see the previous command of that id.
          if (next === undefined) this.lastCommands.delete(topic);
          else this.lastCommands.set(topic, next);
          await this.deps.bus.publish(message(topic, next === undefined ? '' : JSON.stringify(next), { qos: 1, retain: true }));
        },
        watch: (operation, cmdId, listener) => {
          const topic = this.commandTopic(operation, cmdId);
          const set = this.watchers.get(topic) ?? new Set();
          this.watchers.set(topic, set);
          set.add(listener);
          const last = this.lastCommands.get(topic);
          if (last !== undefined) listener(last);
          return () => {
            set.delete(listener);
            if (set.size === 0) this.watchers.delete(topic);
          };
        },
      },
      signal: controller.signal,
      context: this.contextOf(key.operation),
    };
  }

  private startRun(key: CommandKey, entry: Entry, mode: 'execute' | 'resume', payload: JsonObject): void {
    const handler = this.handlers.get(key.operation);
    if (handler === undefined) return;
    const run = this.commandRun(key, entry, payload);
    const controller = entry.run;
    const running = (async () => {
      let outcome: Outcome;
      try {
        outcome = checkedOutcome(await (mode === 'resume' && handler.resume ? handler.resume(run) : handler.execute(run)));
      } catch (err) {
        outcome = { status: 'failed', reason: errorMessage(err) };
      }
      if (entry.run === controller) delete entry.run;
      if (this.stopping) {
        run.log(`agent stopping: left in state '${String(payload['status'])}', taken up again at the next start`);
        return;
      }
      await this.dispatch(key, { kind: 'finished', outcome });
    })();
    this.runs.add(running);
    void running.finally(() => this.runs.delete(running));
  }
}

/** The message as an event of the rules; a payload that cannot be a command is `malformed`. */
export function toEvent(msg: Message): CommandEvent {
  if (msg.payload.length === 0) return { kind: 'cleared' };
  try {
    const command = parseCommand(payloadText(msg));
    return command === undefined ? { kind: 'cleared' } : { kind: 'request', payload: command.payload };
  } catch (err) {
    return { kind: 'malformed', reason: errorMessage(err) };
  }
}

/** Handlers are ours, but an outcome is published: refuse anything but the two terminal shapes. */
function checkedOutcome(outcome: Outcome): Outcome {
  if (outcome.status === 'successful') return outcome.payload ? { status: 'successful', payload: outcome.payload } : { status: 'successful' };
  if (outcome.status === 'failed' && typeof outcome.reason === 'string') return outcome;
  throw new Error(`the handler returned an invalid outcome: ${JSON.stringify(outcome)}`);
}

function withDeadline(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([work.then(() => {}), deadline]).finally(() => clearTimeout(timer));
}
