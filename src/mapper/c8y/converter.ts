import type { Converter, ConverterHost } from '../../core/converter';
import { parseRegistration } from '../../core/entity';
import { ConversionError } from '../../core/errors';
import { type Message, message, payloadText } from '../../core/message';
import { parseAlarm, parseEvent } from '../../core/telemetry';
import { type EntityTopic, type EntityTopicId, MAIN_DEVICE, errorsTopic, parseTopic, serviceTopicId, topicFor } from '../../core/topics';
import { MeasurementConverter } from '../../native/measurement-converter';
import { toC8yAlarm } from './alarms';
import { type C8yEntity, C8yEntityCache } from './entity-cache';
import { EarlyMessages } from './early-messages';
import { toC8yEvent } from './events';
import { checkMeasurementSize } from './measurements';
import { healthMessages, healthStatus } from './health';
import { InventoryMapper } from './inventory';
import { Availability, type AvailabilityOptions } from './availability';
import { C8yOperations, type OperationsOptions, type UploadOutcome, type UploadRequest } from './operations';
import { type RegistrationOptions, registrationMessages, serviceName, serviceType } from './registration';
import { UnitStore } from './units';

export interface C8yConverterOptions extends RegistrationOptions, Omit<OperationsOptions, 'prefix' | 'topicRoot'> {
  readonly deviceId: string;
  readonly prefix: string;
  /** The mapper's service name (`tedge-mapper-c8y@<profile>` for a profile); default `tedge-mapper-<prefix>`. */
  readonly service?: string;
  readonly topicRoot: string;
  /** c8y.topics: the te/ filters telemetry comes from. */
  readonly topics: readonly string[];
  readonly maxPayloadSize: number;
  /** How many messages of not-yet-registered entities are held at most. */
  readonly earlyMessageLimit: number;
  /** Native when the addon loads (same bytes, same errors); the TypeScript path when absent. */
  readonly measurementConverter?: MeasurementConverter;
  /** `c8y.availability.*`; off when absent. */
  readonly availability?: AvailabilityOptions;
  /**
   * The telemetry flows (src/flows/c8y-flows.ts) that map measurements, events, alarms and service health
   * instead of the code below; the converter keeps entities, units, early messages and operations, and
   * tells the flows the entities through context.mapper, as thin-edge's steps read them.
   */
  readonly telemetryFlows?: TelemetryFlows;
}

/** What the converter needs of its telemetry flows (a FlowsConverter): the runtime's hooks are passed on to it. */
export interface TelemetryFlows extends Pick<Converter, 'filters' | 'convert' | 'takeLater' | 'start' | 'stop' | 'flush' | 'nextFlushAt'> {
  setContext(key: string, json: string | null): void;
  /** Whether a flow takes this topic (a flow of a topic outside te/). */
  accepts(topic: string): boolean;
}

/** thin-edge refuses these in an `@id`: they would make the entity's topics (`c8y/s/us/<xid>`) wildcards or deeper. */
const FORBIDDEN_ID_CHARS = ['/', '+', '#'];

/**
 * The mosquitto bridge, whose `up` means the cloud connection is back: ask for pending operations (500).
 * The built-in bridge (tedge-mapper-bridge-<prefix>) sends its own 500 straight after each connect,
 * ahead of its outbox backlog; answering its `up` too would make Cumulocity send every pending operation twice.
 */
const BRIDGE_SERVICES = (prefix: string): string[] => [`device/main/service/mosquitto-${prefix}-bridge`];

/**
 * The Cumulocity converter: dispatches on the te/ channel to one pure mapping per message kind.
 * It owns the mapper's view of entities and holds data of entities that are not registered yet.
 */
export class C8yConverter implements Converter {
  private readonly ownFilters: readonly string[];
  private readonly cache: C8yEntityCache;
  private readonly early: EarlyMessages;
  private readonly units = new UnitStore();
  private readonly inventory: InventoryMapper;
  private readonly operations: C8yOperations;
  private readonly measurements: MeasurementConverter;
  private readonly availability: Availability;

  /** The mapper's own service entity; a `sync` signal to it republishes every 114. */
  private readonly mapperService: EntityTopicId;

  constructor(private readonly opts: C8yConverterOptions) {
    this.mapperService = serviceTopicId('main', opts.service ?? `tedge-mapper-${opts.prefix}`);
    this.cache = new C8yEntityCache(opts.deviceId, opts.prefix);
    this.early = new EarlyMessages(opts.earlyMessageLimit);
    this.inventory = new InventoryMapper(opts.prefix);
    this.measurements = opts.measurementConverter ?? new MeasurementConverter(undefined);
    this.operations = new C8yOperations(this.cache, { ...opts });
    this.availability = new Availability(opts.availability ?? { enabled: false, intervalMs: 0 }, opts.prefix, opts.deviceId);
    const main = this.cache.get(MAIN_DEVICE);
    if (main !== undefined) this.shareEntity(main);
    const root = opts.topicRoot;
    this.ownFilters = [
      ...opts.topics,
      `${root}/+/+/+/+/cmd/+`,
      `${root}/+/+/+/+/cmd/+/+`,
      `${opts.prefix}/devicecontrol/notifications`,
      `${opts.prefix}/s/ds`,
      topicFor(this.mapperService, { kind: 'signal', type: 'sync' }, root),
    ];
  }

  /** Its own and its flows' (a reload may change theirs). */
  get filters(): readonly string[] {
    const flows = this.opts.telemetryFlows;
    return flows === undefined ? this.ownFilters : [...new Set([...this.ownFilters, ...flows.filters])];
  }

  takeLater(): Promise<Message[]> | undefined {
    return this.opts.telemetryFlows?.takeLater?.();
  }

  async start(host: ConverterHost): Promise<void> {
    await this.opts.telemetryFlows?.start?.(host);
  }

  async stop(): Promise<void> {
    await this.opts.telemetryFlows?.stop?.();
  }

  get droppedEarlyMessages(): number {
    return this.early.dropped;
  }

  startupMessages(now: Date = new Date()): Message[] {
    return [...this.availability.startup(now), ...this.operations.startupMessages()];
  }

  /** Heartbeats of available devices and the telemetry flows' onInterval and statistics, when due (the runtime's flush timer). */
  flush(now: Date, drain: boolean): Message[] {
    const heartbeats = this.availability.heartbeats(now, drain);
    const flows = this.opts.telemetryFlows?.flush?.(now, drain);
    return flows === undefined || flows.length === 0 ? heartbeats : [...heartbeats, ...flows];
  }

  nextFlushAt(): Date | undefined {
    const own = this.availability.nextDue();
    const flows = this.opts.telemetryFlows?.nextFlushAt?.();
    return own === undefined || (flows !== undefined && flows < own) ? flows : own;
  }

  /** Hook for the HTTP side (src/mapper/c8y/http): an upload it served → 506 with the binary URL (or 505), then the clear. */
  uploadFinished(request: UploadRequest, outcome: UploadOutcome): Message[] {
    return this.operations.uploadFinished(request, outcome);
  }

  convert(msg: Message, now: Date): Message[] {
    if (msg.topic === `${this.opts.prefix}/devicecontrol/notifications`) {
      return this.operations.onCloudOperation(payloadText(msg));
    }
    if (msg.topic === `${this.opts.prefix}/s/ds`) return this.operations.onSmartrest(payloadText(msg));
    const topic = parseTopic(msg.topic, this.opts.topicRoot);
    if (!topic && this.opts.telemetryFlows?.accepts(msg.topic)) return this.opts.telemetryFlows.convert(msg, now);
    if (!topic) throw new ConversionError(`Unknown topic or channel: '${msg.topic}'`, { code: 'UNKNOWN_CHANNEL' });
    if (topic.channel.kind === 'registration') return this.onRegistration(topic, msg, now);
    if (topic.channel.kind === 'signal' && topic.channel.type === 'sync' && topic.entity === this.mapperService) {
      return this.operations.sync();
    }
    if (!this.cache.has(topic.entity)) return this.holdEarly(topic, msg);
    return this.convertForKnownEntity(topic, msg, now);
  }

  private holdEarly(topic: EntityTopic, msg: Message): Message[] {
    const dropped = this.early.hold(topic.entity, msg);
    if (dropped === 0) return [];
    const text = `Dropped ${dropped} message(s) of unregistered entities (early-message cache full, ${this.early.dropped} dropped in all); latest held: '${msg.topic}'`;
    return [message(errorsTopic(this.opts.topicRoot), text, { qos: 1 })];
  }

  private onRegistration(topic: EntityTopic, msg: Message, now: Date): Message[] {
    const text = payloadText(msg);
    const registration = parseRegistration(topic.entity, text);
    if (registration === undefined) {
      const entity = this.cache.get(topic.entity);
      if (entity) {
        this.inventory.forget(entity);
        this.operations.forgetEntity(entity.externalId);
      }
      this.cache.remove(topic.entity);
      if (topic.entity !== MAIN_DEVICE) this.opts.telemetryFlows?.setContext(topic.entity, null);
      this.availability.removed(topic.entity);
      return [];
    }
    if (registration.topicId === MAIN_DEVICE) return [];
    const bad = FORBIDDEN_ID_CHARS.find((c) => registration.externalId?.includes(c));
    if (bad !== undefined) throw new ConversionError(`Invalid external id '${registration.externalId ?? ''}' of '${registration.topicId}': it contains the character '${bad}' (forbidden: / + #)`);
    if (registration.parent !== undefined && !this.cache.has(registration.parent)) {
      // A nested child can arrive before its parent: wait for the parent.
      return this.holdEarly({ ...topic, entity: registration.parent }, msg);
    }
    const known = this.cache.has(registration.topicId);
    const entity = this.cache.add(registration);
    this.shareEntity(entity);
    const out = known ? [] : registrationMessages(entity, this.cache, this.opts);
    out.push(...this.availability.registered(entity, this.cache.smartrestTopic(entity.topicId), now));
    for (const held of this.early.release(registration.topicId)) out.push(...this.convertSafely(held, now));
    return out;
  }

  /** The entity as the flows' c8y steps read it from context.mapper: `@id`, `@type`, `@parent`, and a service's name and type as resolved here. */
  private shareEntity(entity: C8yEntity): void {
    const flows = this.opts.telemetryFlows;
    if (flows === undefined) return;
    const shared: Record<string, string> = { '@id': entity.externalId, '@type': entity.type };
    if (entity.parent !== undefined) shared['@parent'] = entity.parent;
    if (entity.type === 'service') Object.assign(shared, { name: serviceName(entity), type: serviceType(entity, this.opts) });
    flows.setContext(entity.topicId, JSON.stringify(shared));
  }

  /** Replayed messages are converted one by one, so one bad early message does not hide the others. */
  private convertSafely(msg: Message, now: Date): Message[] {
    try {
      return this.convert(msg, now);
    } catch (err) {
      const text = `Failed to convert a message on topic '${msg.topic}': ${(err as Error).message}`;
      return [message(errorsTopic(this.opts.topicRoot), text, { qos: 1 })];
    }
  }

  private convertForKnownEntity(topic: EntityTopic, msg: Message, now: Date): Message[] {
    const entity = this.cache.get(topic.entity);
    if (!entity) return [];
    const { prefix } = this.opts;
    const externalSource = this.cache.externalSource(entity.topicId);
    const channel = topic.channel;
    const flows = this.opts.telemetryFlows;
    if (flows !== undefined && (channel.kind === 'measurement' || channel.kind === 'event' || channel.kind === 'alarm')) return flows.convert(msg, now);
    switch (channel.kind) {
      case 'measurement': {
        const payload = this.measurements.convert(msg.payload, {
          topicType: channel.type,
          units: this.units.table(entity.topicId, channel.type),
          externalSource,
          now,
        });
        checkMeasurementSize(payload, this.opts.maxPayloadSize);
        return [message(`${prefix}/measurement/measurements/create`, payload, { qos: 1 })];
      }
      case 'measurement-meta': {
        const text = payloadText(msg);
        this.units.update(entity.topicId, channel.type, text);
        // into-c8y-measurements reads the units of <measurement topic>/meta there.
        flows?.setContext(msg.topic, text === '' ? null : text);
        return [];
      }
      case 'event':
        return [
          toC8yEvent(parseEvent(payloadText(msg)), {
            prefix,
            topicType: channel.type,
            externalId: entity.externalId,
            ...(externalSource ? { externalSource } : {}),
            maxPayloadSize: this.opts.maxPayloadSize,
            now,
          }),
        ];
      case 'alarm':
        return [
          toC8yAlarm(parseAlarm(payloadText(msg)), {
            prefix,
            topicType: channel.type,
            smartrestTopic: this.cache.smartrestTopic(entity.topicId),
            ...(externalSource ? { externalSource } : {}),
            now,
          }),
        ];
      case 'twin':
        return this.inventory.twinUpdate(entity, channel.fragment, payloadText(msg));
      case 'health': {
        const text = payloadText(msg);
        this.availability.health(entity.topicId, text === '' ? undefined : healthStatus(text));
        const out = flows !== undefined ? flows.convert(msg, now) : healthMessages(entity, text, this.cache, this.opts);
        if (BRIDGE_SERVICES(prefix).includes(entity.topicId) && healthStatus(text) === 'up') {
          out.push(message(`${prefix}/s/us`, '500', { qos: 1 }));
        }
        return out;
      }
      case 'command-capability':
        return this.operations.onCapability(entity.topicId, channel.operation, payloadText(msg));
      case 'command':
        return this.operations.onCommand(entity.topicId, channel.operation, channel.cmdId, payloadText(msg));
      case 'registration':
      case 'event-meta':
      case 'alarm-meta':
      case 'metrics':
      case 'signal':
      case 'config':
        return [];
    }
  }
}
