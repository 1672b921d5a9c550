import { isDeepStrictEqual } from 'node:util';
import type { Bus } from '../../bus/bus';
import { type EntityRegistration, autoRegistrations, parseRegistration, registrationToJson } from '../../core/entity';
import { errorMessage } from '../../core/errors';
import { type JsonObject, type JsonValue, isJsonObject, parseJson } from '../../core/json';
import { type Message, message, payloadText } from '../../core/message';
import { type ChannelKind, type EntityTopicId, errorsTopic, parseTopic, topicFor } from '../../core/topics';
import type { Logger } from '../../log/logger';
import type { Service } from '../../runtime/service';
import type { EntityEvent, EntityPersistence } from './entity-persistence';
import { type EntityUpdate, EntityRequestError, type ListFilters, checkCreate, listEntities, unknownEntity, updatedRegistration } from './entity-requests';
import type { EntityStore, RegisterOutcome } from './entity-store';
import { TwinData, invalidTwinKey } from './twin-data';

export interface EntityServiceOptions {
  readonly topicRoot: string;
  /** agent.entity_store.auto_register */
  readonly autoRegister: boolean;
  /** agent.entity_store.clean_start: ignore the file, rebuild from the retained registrations. */
  readonly cleanStart: boolean;
  /** service.type: the `type` twin value of auto-registered services. */
  readonly serviceType: string;
  /**
   * A topic outside `te/` that only this agent uses: a message published there comes back after every
   * retained message the broker sent for our subscription, which tells us what the broker still has.
   */
  readonly syncTopic: string;
}

export interface EntityServiceStats {
  registered: number;
  deregistered: number;
  autoRegistered: number;
  /** Registrations republished because the broker had lost them (restart without persistence). */
  republished: number;
  /** Messages published on te/errors. */
  errors: number;
  /** Data of unknown entities after the first report for that entity (not reported again). */
  unknownData: number;
  persistenceFailures: number;
  publishFailures: number;
}

/**
 * Channels on which an entity speaks for itself: the first such message from an unknown entity
 * auto-registers it. Commands and signals are requests *to* an entity and never register it.
 */
const DATA_CHANNELS: ReadonlySet<ChannelKind> = new Set<ChannelKind>([
  'measurement',
  'measurement-meta',
  'event',
  'event-meta',
  'alarm',
  'alarm-meta',
  'twin',
  'command-capability',
  'health',
  'metrics',
  'config',
]);

/** Unknown entities reported at most once each; the set is bounded so garbage topics cannot grow it forever. */
const MAX_REPORTED_UNKNOWN = 10_000;

/**
 * Owns the entity store on the bus (§1.3): registrations and deregistrations on `te/<id>`, twin data
 * from registrations, auto-registration of `device/<d>/service/<s>` entities, persistence, and
 * republishing registrations the broker lost.
 *
 * Decisions:
 * - Deregistration clears the retained registrations of the descendants (the entity's own is already
 *   empty); other retained messages of those entities are left to their owners, as thin-edge does.
 * - An empty payload on a data channel is a clear, not a sign of life: it never auto-registers.
 * - Data of an entity that cannot be auto-registered is reported on te/errors once per entity (until it
 *   is registered), not once per message, so a chatty sensor does not flood te/errors.
 * - After every (re)connection the service resubscribes, waits for its sync message to come back (so
 *   every retained registration has been seen) and republishes the registrations the broker did not
 *   have; entities the broker still has are not rewritten.
 * - Twin fragments (`te/<id>/twin/<key>`) of known entities are tracked for the HTTP API; deregistering
 *   an entity clears the retained twin fragments it had, as thin-edge does.
 * - The request methods (create, update, remove, twin…) serve the HTTP entity API: they change the store
 *   and publish on the bus exactly what an MQTT client would have published, so the echo is a no-op and
 *   MQTT subscribers see HTTP changes; they throw EntityRequestError for what is refused.
 */
export class EntityService implements Service {
  readonly name = 'entity-store';
  readonly stats: EntityServiceStats = {
    registered: 0,
    deregistered: 0,
    autoRegistered: 0,
    republished: 0,
    errors: 0,
    unknownData: 0,
    persistenceFailures: 0,
    publishFailures: 0,
  };
  private readonly reportedUnknown = new Set<EntityTopicId>();
  private readonly twins = new TwinData();
  private readonly inflight = new Set<Promise<void>>();
  /** What each entity exposes of its configuration on `te/<id>/config` (retained), for GET …/config. */
  private readonly configs = new Map<EntityTopicId, JsonObject>();
  /** Registrations the broker delivered since the current sync began. */
  private seen = new Set<EntityTopicId>();
  private generation = 0;
  private syncWaiters: Array<{ generation: number; resolve: () => void }> = [];
  private connected = false;
  /**
   * Messages handled before `start()` restored the store (a persistent session delivers what the broker
   * queued for us right after connecting); undefined once started.
   */
  private early: Message[] | undefined = [];
  private stopped = false;

  constructor(
    private readonly deps: {
      readonly bus: Bus;
      readonly store: EntityStore;
      readonly persistence: EntityPersistence;
      readonly logger: Logger;
      readonly options: EntityServiceOptions;
    },
  ) {}

  /** Everything under te/ (registrations are `te/+/+/+/+`, which `#` includes) plus the sync topic. */
  filters(): string[] {
    return [`${this.deps.options.topicRoot}/+/+/+/+/#`, this.deps.options.syncTopic];
  }

  async start(): Promise<void> {
    const { persistence, store, logger, options, bus } = this.deps;
    const report = persistence.open(store, { clean: options.cleanStart });
    logger.info({ file: persistence.path, restored: report.restored, skipped: report.skipped, cleanStart: options.cleanStart }, 'entity store loaded');
    const early = this.early ?? [];
    this.early = undefined;
    for (const msg of early) this.handle(msg);
    this.connected = true;
    bus.onConnectionChange((connected) => {
      if (!connected) this.connected = false;
      else if (!this.connected) {
        this.connected = true;
        this.sync().catch((err: unknown) => logger.error({ err }, 'entity store sync after reconnection failed'));
      }
    });
    await this.sync();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.deps.persistence.close();
  }

  /** Every message the agent receives on the filters above. */
  handle(msg: Message): void {
    if (this.early) {
      this.early.push(msg);
      return;
    }
    if (this.stopped) return;
    if (msg.topic === this.deps.options.syncTopic) return this.onSyncEcho(msg);
    const t = parseTopic(msg.topic, this.deps.options.topicRoot);
    if (t === undefined) return;
    if (t.channel.kind === 'registration') return this.onRegistration(t.entity, msg);
    if (DATA_CHANNELS.has(t.channel.kind) && msg.payload.length > 0) this.onData(t.entity, msg.topic);
    if (t.channel.kind === 'twin') this.onTwin(t.entity, t.channel.fragment, msg);
    if (t.channel.kind === 'config') this.onConfig(t.entity, msg);
  }

  // ---- requests of the HTTP entity API ----

  /** A registered entity (not one waiting for its parent). */
  entity(topicId: EntityTopicId): EntityRegistration | undefined {
    return this.deps.store.get(topicId);
  }

  list(filters: ListFilters): EntityRegistration[] {
    return listEntities(this.deps.store, filters);
  }

  /**
   * Registers a new entity and publishes its retained registration (and twin data). Unlike MQTT, which
   * holds an orphan until its parent comes, a request gets an answer now: the parent must be registered.
   */
  create(reg: EntityRegistration): void {
    checkCreate(this.deps.store, reg);
    const outcome = this.apply(reg, true);
    if (outcome.kind === 'rejected') throw new EntityRequestError('invalid', outcome.reason);
  }

  /** Changes `@parent` and/or `@health` (thin-edge's checks and wording) and republishes the registration. */
  update(topicId: EntityTopicId, change: EntityUpdate): EntityRegistration {
    const next = updatedRegistration(this.deps.store, topicId, change);
    const outcome = this.apply(next, false);
    if (outcome.kind === 'rejected') throw new EntityRequestError('invalid', outcome.reason);
    if (outcome.kind === 'updated') this.publishRegistration(outcome.entity);
    return this.deps.store.get(topicId) ?? next;
  }

  /** Deregisters an entity and its descendants, clearing their retained registrations; returns them. */
  remove(topicId: EntityTopicId): EntityRegistration[] {
    return this.deregister(topicId, true);
  }

  /** Twin fragments of a registered entity, keys sorted. */
  twin(topicId: EntityTopicId): JsonObject {
    if (!this.deps.store.isRegistered(topicId)) throw unknownEntity(topicId);
    return this.twins.fragments(topicId);
  }

  twinFragment(topicId: EntityTopicId, key: string): JsonValue | undefined {
    return this.deps.store.isRegistered(topicId) ? this.twins.get(topicId, key) : undefined;
  }

  /** Sets one fragment (null deletes it) and publishes it retained when it changed. */
  setTwinFragment(topicId: EntityTopicId, key: string, value: JsonValue): void {
    const bad = invalidTwinKey(key);
    if (bad) throw new EntityRequestError('invalid', bad);
    if (!this.deps.store.isRegistered(topicId)) throw unknownEntity(topicId);
    if (this.twins.set(topicId, key, value)) this.publishTwinFragment(topicId, key, value);
  }

  /** Replaces all fragments: keys not given (or null) are cleared, changed ones published. */
  replaceTwin(topicId: EntityTopicId, fragments: JsonObject): JsonObject {
    for (const key of Object.keys(fragments)) {
      const bad = invalidTwinKey(key);
      if (bad) throw new EntityRequestError('invalid', bad);
    }
    if (!this.deps.store.isRegistered(topicId)) throw unknownEntity(topicId);
    for (const key of Object.keys(this.twins.fragments(topicId))) {
      if (fragments[key] === undefined) this.setTwinFragment(topicId, key, null);
    }
    for (const [key, value] of Object.entries(fragments)) this.setTwinFragment(topicId, key, value);
    return this.twins.fragments(topicId);
  }

  /** The configuration a registered entity exposes (empty when it published none). */
  exposedConfig(topicId: EntityTopicId): JsonObject {
    if (!this.deps.store.isRegistered(topicId)) throw unknownEntity(topicId);
    return this.configs.get(topicId) ?? {};
  }

  private onConfig(topicId: EntityTopicId, msg: Message): void {
    if (!this.deps.store.knows(topicId)) return;
    if (msg.payload.length === 0) {
      this.configs.delete(topicId);
      return;
    }
    try {
      const value = parseJson(payloadText(msg));
      if (isJsonObject(value)) this.configs.set(topicId, value);
      else this.deps.logger.warn({ topic: msg.topic }, 'exposed configuration is not a JSON object; not tracked');
    } catch (err) {
      this.deps.logger.warn({ topic: msg.topic, err: errorMessage(err) }, 'exposed configuration is not JSON; not tracked');
    }
  }

  /** A twin message from the bus: tracked for entities the store knows (registered or waiting). */
  private onTwin(topicId: EntityTopicId, key: string, msg: Message): void {
    if (!this.deps.store.knows(topicId) || invalidTwinKey(key)) return;
    if (msg.payload.length === 0) {
      this.twins.set(topicId, key, null);
      return;
    }
    try {
      this.twins.set(topicId, key, parseJson(payloadText(msg)));
    } catch (err) {
      this.deps.logger.warn({ topic: msg.topic, err: errorMessage(err) }, 'twin fragment is not JSON; not tracked');
    }
  }

  /**
   * Resubscribes (so the broker replays its retained registrations), waits until our own sync message
   * comes back behind them, then republishes what the broker lost.
   */
  private async sync(): Promise<void> {
    const { bus, store } = this.deps;
    const generation = ++this.generation;
    this.seen = new Set();
    await bus.subscribe(this.filters(), 1);
    const echoed = new Promise<void>((resolve) => this.syncWaiters.push({ generation, resolve }));
    await bus.publish(message(this.deps.options.syncTopic, String(generation), { qos: 1 }));
    await echoed;
    // A reconnection during the wait started a newer sync, which does the republishing.
    if (generation !== this.generation) return;
    const lost = store.registrations().filter((r) => !this.seen.has(r.topicId));
    for (const reg of lost) this.publishRegistration(reg);
    this.stats.republished += lost.length;
    if (lost.length > 0) this.deps.logger.info({ count: lost.length }, 'republished registrations the broker did not have');
  }

  private onSyncEcho(msg: Message): void {
    const n = Number(Buffer.from(msg.payload).toString());
    if (!Number.isInteger(n)) return;
    // A lost echo (disconnection) is covered by any later one.
    const done = this.syncWaiters.filter((w) => w.generation <= n);
    this.syncWaiters = this.syncWaiters.filter((w) => w.generation > n);
    for (const w of done) w.resolve();
  }

  private onRegistration(topicId: EntityTopicId, msg: Message): void {
    if (msg.payload.length === 0) {
      this.deregister(topicId);
      return;
    }
    this.seen.add(topicId);
    let reg: EntityRegistration | undefined;
    try {
      reg = parseRegistration(topicId, payloadText(msg));
    } catch (err) {
      this.reportError(`Invalid entity registration on topic '${msg.topic}': ${errorMessage(err)}`);
      return;
    }
    if (reg) this.apply(reg, false);
  }

  /** Registers and persists; `announce` publishes the registration itself (it did not come from the bus). */
  private apply(reg: EntityRegistration, announce: boolean): RegisterOutcome {
    const outcome = this.deps.store.register(reg);
    switch (outcome.kind) {
      case 'registered':
        for (const e of outcome.entities) {
          this.persist({ op: 'register', registration: e });
          this.reportedUnknown.delete(e.topicId);
        }
        for (const e of outcome.entities) {
          if (announce && e === reg) this.publishRegistration(e);
          this.publishTwin(e, Object.keys(e.twin));
          this.deps.logger.info({ entity: e.topicId, type: e.type, parent: e.parent }, 'entity registered');
        }
        this.stats.registered += outcome.entities.length;
        for (const d of outcome.dropped) {
          this.twins.forget(d.topicId);
          this.reportError(`Failed to register the entity '${d.topicId}': ${d.reason}`);
        }
        break;
      case 'updated': {
        this.persist({ op: 'register', registration: outcome.entity });
        const changed = Object.keys(outcome.entity.twin).filter((k) => !sameJson(outcome.entity.twin[k], outcome.previous.twin[k]));
        this.publishTwin(outcome.entity, changed);
        this.deps.logger.info({ entity: reg.topicId, parent: outcome.entity.parent }, 'entity updated');
        break;
      }
      case 'unchanged':
        break;
      case 'pending':
        if (announce) this.publishRegistration(reg);
        this.deps.logger.info({ entity: reg.topicId, parent: outcome.parent }, 'entity waits for its parent to be registered');
        break;
      case 'rejected':
        this.reportError(`Failed to register the entity on topic '${this.registrationTopic(reg.topicId)}': ${outcome.reason}`);
        break;
    }
    return outcome;
  }

  /** `clearOwn`: the request did not come as an empty retained registration, so clear that one too. */
  private deregister(topicId: EntityTopicId, clearOwn = false): EntityRegistration[] {
    this.seen.delete(topicId);
    const removed = this.deps.store.deregister(topicId);
    // Nothing known, or the echo of a descendant we just cleared.
    if (removed.length === 0) return removed;
    this.persist({ op: 'deregister', topicId });
    for (const r of removed) {
      this.reportedUnknown.delete(r.topicId);
      for (const key of this.twins.forget(r.topicId)) this.publishTwinFragment(r.topicId, key, null);
      this.configs.delete(r.topicId);
      if (clearOwn || r.topicId !== topicId) this.publish(message(this.registrationTopic(r.topicId), '', { qos: 1, retain: true }));
    }
    this.stats.deregistered += removed.length;
    this.deps.logger.info({ entity: topicId, removed: removed.map((r) => r.topicId) }, 'entity deregistered');
    return removed;
  }

  private onData(topicId: EntityTopicId, topic: string): void {
    const { store, options } = this.deps;
    if (store.knows(topicId)) return;
    const implied = options.autoRegister ? autoRegistrations(topicId) : undefined;
    if (implied) {
      for (const reg of implied) {
        if (store.knows(reg.topicId)) continue;
        const withType = reg.type === 'service' ? { ...reg, twin: { ...reg.twin, type: options.serviceType } } : reg;
        if (this.apply(withType, true).kind !== 'rejected') this.stats.autoRegistered++;
      }
      return;
    }
    if (this.reportedUnknown.has(topicId)) {
      this.stats.unknownData++;
      return;
    }
    if (this.reportedUnknown.size >= MAX_REPORTED_UNKNOWN) this.reportedUnknown.clear();
    this.reportedUnknown.add(topicId);
    const why = options.autoRegister
      ? 'only entities with a device/<device>/service/<service> topic id are auto-registered'
      : 'auto-registration is disabled (agent.entity_store.auto_register=false)';
    this.reportError(
      `Message on topic '${topic}' comes from the entity '${topicId}', which is not registered: ${why}; register it with a retained message on '${this.registrationTopic(topicId)}'`,
    );
  }

  private registrationTopic(topicId: EntityTopicId): string {
    return topicFor(topicId, { kind: 'registration' }, this.deps.options.topicRoot);
  }

  private publishRegistration(reg: EntityRegistration): void {
    this.publish(message(this.registrationTopic(reg.topicId), JSON.stringify(registrationToJson(reg)), { qos: 1, retain: true }));
  }

  /** Each twin key of a registration on `te/<id>/twin/<key>`, retained; null clears the fragment. */
  private publishTwin(reg: EntityRegistration, keys: readonly string[]): void {
    for (const key of keys) {
      const value = reg.twin[key];
      if (value === undefined) continue;
      if (invalidTwinKey(key)) {
        this.deps.logger.warn({ entity: reg.topicId, key }, 'twin key cannot be a topic level; not republished');
        continue;
      }
      this.twins.set(reg.topicId, key, value);
      this.publishTwinFragment(reg.topicId, key, value);
    }
  }

  private publishTwinFragment(topicId: EntityTopicId, key: string, value: JsonValue): void {
    const topic = topicFor(topicId, { kind: 'twin', fragment: key }, this.deps.options.topicRoot);
    this.publish(message(topic, value === null ? '' : JSON.stringify(value), { qos: 1, retain: true }));
  }

  /** The store in memory stays authoritative when the disk fails; the failure is logged and counted. */
  private persist(event: EntityEvent): void {
    try {
      this.deps.persistence.append(event);
    } catch (err) {
      this.stats.persistenceFailures++;
      this.deps.logger.error({ err, file: this.deps.persistence.path }, 'cannot persist an entity store change');
    }
  }

  private reportError(text: string): void {
    this.stats.errors++;
    this.deps.logger.warn(text);
    this.publish(message(errorsTopic(this.deps.options.topicRoot), text, { qos: 1 }));
  }

  private publish(msg: Message): void {
    // Not awaited: MQTT.js keeps publish order, and awaiting would serialise the handler on PUBACKs.
    const done = this.deps.bus.publish(msg).catch((err: unknown) => {
      this.stats.publishFailures++;
      this.deps.logger.error({ err, topic: msg.topic }, 'publish failed');
    });
    this.inflight.add(done);
    void done.finally(() => this.inflight.delete(done));
  }

  /**
   * Resolves once everything published so far is acknowledged by the broker (or failed): an HTTP
   * request answers after this, so a client that then subscribes sees the retained result.
   */
  async settled(): Promise<void> {
    await Promise.all([...this.inflight]);
  }
}

/** Key order does not make a twin value different. */
function sameJson(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  return isDeepStrictEqual(a, b);
}
