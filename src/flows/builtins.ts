import { isValidFilter, topicMatches } from '../bus/topic-filter';
import { TedgeError, errorMessage } from '../core/errors';
import { type JsonObject, isJsonObject, parseJson, parseJsonObject } from '../core/json';
import { message, payloadText } from '../core/message';
import { type EntityTopic, type EntityTopicId, parseTopic } from '../core/topics';
import { awsTopic } from '../mapper/aws/topic';
import { toC8yAlarm } from '../mapper/c8y/alarms';
import { healthStatus } from '../mapper/c8y/health';
import { smartrestLine } from '../mapper/c8y/smartrest';
import { EarlyMessages } from '../mapper/c8y/early-messages';
import { toC8yEvent } from '../mapper/c8y/events';
import { checkMeasurementSize } from '../mapper/c8y/measurements';
import { MeasurementConverter } from '../native/measurement-converter';
import { parseAlarm, parseEvent } from '../core/telemetry';
import { durationMs } from '../config/value-types';
import { groupMeasurements } from './group-measurements';
import { addTimestamp, parseTimeFormat } from '../mapper/steps/add-timestamp';
import { isMosquittoBridgeHealth } from '../mapper/steps/mosquitto-health';
import { limitPayloadSize } from '../mapper/steps/payload-size';
import type { FlowMessage } from './flow-message';
import type { StepStores } from './kv-store';
import type { Step, StepOutcome } from './step';

/** What a builtin does with one message: its outputs (none drops it). Throws to report the message. */
type Transform = ((msg: FlowMessage) => FlowMessage[]) & {
  /** Builtins that hold messages (group-measurements, cache-early-messages) release them on interval; all that can go when `final`. */
  onInterval?: (now: number, final: boolean) => FlowMessage[];
  /** After the final onInterval: what it could not release and is lost with the flow, to report (cache-early-messages). */
  lostAtEnd?: () => string | undefined;
};

/** What the mapper process lends its builtins: the c8y mapper's native-capable measurement converter. */
export interface BuiltinServices {
  readonly measurements?: MeasurementConverter;
}

interface BuiltinSetup {
  readonly config: Record<string, unknown>;
  readonly stores: StepStores;
  readonly services: BuiltinServices;
}

/** Units of `<topic>/meta` held in context.mapper as a table, rebuilt only when that text changes (the native converter caches by table). */
function unitTables(stores: StepStores): (metaKey: string) => ReadonlyMap<string, string> | undefined {
  const tables = new Map<string, { text: string; table: ReadonlyMap<string, string> }>();
  return (metaKey) => {
    const text = stores.mapper.get(metaKey);
    if (text === undefined) return undefined;
    const cached = tables.get(metaKey);
    if (cached?.text === text) return cached.table;
    const meta = parseJson(text);
    const table = new Map<string, string>();
    if (isJsonObject(meta)) for (const [key, entry] of Object.entries(meta)) if (isJsonObject(entry) && typeof entry['unit'] === 'string') table.set(key, entry['unit']);
    tables.set(metaKey, { text, table });
    return table;
  };
}

const encoder = new TextEncoder();

function withPayload(msg: FlowMessage, text: string): FlowMessage {
  return { ...msg, payload: encoder.encode(text) };
}

function topicsOf(config: Record<string, unknown>, key: string, builtin: string): string[] {
  const value = config[key];
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : undefined;
  if (list === undefined || list.some((t) => typeof t !== 'string' || !isValidFilter(t))) {
    throw new TedgeError('CONFIG_INVALID_VALUE', `${builtin}: config.${key} must be a topic filter or a list of topic filters`);
  }
  return list as string[];
}

function stringOf(config: Record<string, unknown>, key: string, builtin: string, fallback?: string): string {
  const value = config[key] ?? fallback;
  if (typeof value !== 'string') throw new TedgeError('CONFIG_INVALID_VALUE', `${builtin}: config.${key} must be a string`);
  return value;
}

/** parseTopic, remembered: every c8y step of a flow asks for the same topic in turn (bounded, cleared when full). */
const parsedTopics = new Map<string, EntityTopic | undefined>();
function parsedTopic(topic: string, root: string): EntityTopic | undefined {
  const key = `${root}\u0000${topic}`;
  if (parsedTopics.has(key)) return parsedTopics.get(key);
  const parsed = parseTopic(topic, root);
  if (parsedTopics.size >= 10_000) parsedTopics.clear();
  parsedTopics.set(key, parsed);
  return parsed;
}

/** The entity topic id (`device/child//`) a `<root>/<id>/<channel>` topic is about, as the mapper context keys it. */
function entityKey(topic: string, root: string): EntityTopicId | undefined {
  return parsedTopic(topic, root)?.entity;
}

/**
 * thin-edge's builtin transformations, each a thin adapter over the converter the built-in mappers
 * use (add-timestamp, limit-payload-size and skip-mosquitto-health-status are the az/aws `mea` steps;
 * set-aws-topic is the aws mapper's topic rule; into-c8y-measurements the c8y measurement converter).
 */
/** Who a te/ message is about, as the Cumulocity steps need it: undefined for an entity the context does not know. */
function c8ySource(topic: string, root: string, stores: StepStores): { entity: string; isMain: boolean; externalId: string | undefined } | undefined {
  const entity = entityKey(topic, root);
  if (entity === undefined) return undefined;
  const isMain = entity === 'device/main//';
  const registration = stores.mapper.get(entity);
  if (registration === undefined && !isMain) return undefined;
  return { entity, isMain, externalId: registration === undefined ? undefined : externalIdOf(registration) };
}

/** The `@id` of a registration's text; parsed once per text, since every message of the entity asks. */
const externalIds = new Map<string, string | undefined>();
function externalIdOf(registration: string): string | undefined {
  if (externalIds.has(registration)) return externalIds.get(registration);
  const reg = parseJson(registration);
  const id = isJsonObject(reg) && typeof reg['@id'] === 'string' ? reg['@id'] : undefined;
  if (externalIds.size >= 10_000) externalIds.clear();
  externalIds.set(registration, id);
  return id;
}

/** The entity's `@id` as Cumulocity's externalSource, for any entity but the main device. */
function externalSourceOf(src: { isMain: boolean; externalId: string | undefined }): { externalSource?: { externalId: string; type: 'c8y_Serial' } } {
  return src.externalId !== undefined && !src.isMain ? { externalSource: { externalId: src.externalId, type: 'c8y_Serial' } } : {};
}

/** The payload as a JSON object with its text, or undefined when it is not one (empty, not UTF-8, not JSON, not an object). */
function jsonObjectOrUndefined(msg: FlowMessage): { text: string; value: JsonObject } | undefined {
  if (msg.payload.length === 0) return undefined;
  try {
    const text = payloadText(msg);
    return { text, value: parseJsonObject(text, 'a JSON object') };
  } catch {
    return undefined;
  }
}

function fromMessage(m: { topic: string; payload: Uint8Array }, time: number): FlowMessage {
  return { topic: m.topic, payload: m.payload, time };
}

const BUILTINS: Record<string, (setup: BuiltinSetup) => Transform> = {
  'add-timestamp': ({ config }) => {
    const property = stringOf(config, 'property', 'add-timestamp', 'time');
    if (property !== 'time') throw new TedgeError('CONFIG_INVALID_VALUE', `add-timestamp: only property = "time" is supported`);
    const format = parseTimeFormat(stringOf(config, 'format', 'add-timestamp', 'unix'), 'add-timestamp.format');
    const reformat = config['reformat'] === true;
    return (msg) => {
      // As thin-edge's: what is not a JSON object passes untouched (require-json-object refuses it, where wanted).
      const json = jsonObjectOrUndefined(msg);
      if (json === undefined) return [msg];
      const text = json.text;
      // Without `reformat` an existing timestamp is left as it is.
      if (!reformat && json.value['time'] !== undefined) return [msg];
      const stamped = addTimestamp(text, json.value, new Date(msg.time), format);
      return [stamped === text ? msg : withPayload(msg, stamped)];
    };
  },
  'ignore-topics': ({ config }) => {
    const topics = topicsOf(config, 'topics', 'ignore-topics');
    return (msg) => (topics.some((f) => topicMatches(f, msg.topic)) ? [] : [msg]);
  },
  'limit-payload-size': ({ config }) => {
    const max = config['max_size'];
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 0) throw new TedgeError('CONFIG_INVALID_VALUE', 'limit-payload-size: config.max_size must be a number of bytes');
    const discard = config['discard'] === true;
    // Which setting the error names: the built-in mappers' flows name their tedge config key.
    const setting = stringOf(config, 'setting', 'limit-payload-size', 'limit-payload-size.max_size');
    return (msg) => {
      if (discard && msg.payload.length > max) return [];
      limitPayloadSize(msg.payload, max, setting);
      return [msg];
    };
  },
  // Not thin-edge's: the az/aws converters refuse such a payload, with timestamps off too (see meaFlowToml).
  'require-json-object': () => (msg) => {
    if (msg.payload.length > 0) parseJsonObject(payloadText(msg), 'a JSON object');
    return [msg];
  },
  'set-topic': ({ config }) => {
    const topic = stringOf(config, 'topic', 'set-topic');
    return (msg) => [{ ...msg, topic }];
  },
  'skip-mosquitto-health-status': () => (msg) => (isMosquittoBridgeHealth(message(msg.topic, msg.payload)) ? [] : [msg]),
  'update-context': ({ config, stores }) => {
    const topics = config['topics'] === undefined ? ['#'] : topicsOf(config, 'topics', 'update-context');
    return (msg) => {
      if (!topics.some((f) => topicMatches(f, msg.topic))) return [msg];
      const text = payloadText(msg);
      if (text === '') stores.mapper.set(msg.topic, null);
      else stores.mapper.set(msg.topic, JSON.stringify(parseJson(text)));
      return [];
    };
  },
  'set-aws-topic': ({ config }) => {
    const prefix = stringOf(config, 'prefix', 'set-aws-topic', 'aws');
    return (msg) => [{ ...msg, topic: awsTopic(msg.topic, prefix) }];
  },
  'into-c8y-measurements': ({ config, stores, services }) => {
    const root = stringOf(config, 'topic_root', 'into-c8y-measurements', 'te');
    const target = stringOf(config, 'topic', 'into-c8y-measurements', 'c8y/measurement/measurements/create');
    const maxPayloadSize = typeof config['max_payload_size'] === 'number' ? config['max_payload_size'] : undefined;
    // The c8y mapper lends its converter (native when the addon loads); elsewhere the TypeScript path, same bytes.
    const converter = services.measurements ?? new MeasurementConverter(undefined);
    const unitsOf = unitTables(stores);
    return (msg) => {
      const parsed = parsedTopic(msg.topic, root);
      if (parsed === undefined || parsed.channel.kind !== 'measurement') return [msg];
      // Like thin-edge, a measurement of an entity the context does not know is dropped (see cache-early-messages).
      const src = c8ySource(msg.topic, root, stores);
      if (src === undefined) return [];
      const payload = converter.convert(msg.payload, {
        topicType: parsed.channel.type,
        units: unitsOf(`${msg.topic}/meta`),
        now: new Date(msg.time),
        ...externalSourceOf(src),
      });
      if (maxPayloadSize !== undefined) checkMeasurementSize(payload, maxPayloadSize);
      return [{ topic: target, payload, time: msg.time }];
    };
  },
  'into-c8y-events': ({ config, stores }) => {
    const root = stringOf(config, 'topic_root', 'into-c8y-events', 'te');
    const prefix = stringOf(config, 'c8y_prefix', 'into-c8y-events', 'c8y');
    const maxPayloadSize = typeof config['max_payload_size'] === 'number' ? config['max_payload_size'] : 16184;
    return (msg) => {
      const parsed = parsedTopic(msg.topic, root);
      if (parsed === undefined || parsed.channel.kind !== 'event') return [msg];
      const src = c8ySource(msg.topic, root, stores);
      if (src === undefined) return [];
      const out = toC8yEvent(parseEvent(payloadText(msg)), { prefix, topicType: parsed.channel.type, externalId: src.externalId ?? '', maxPayloadSize, now: new Date(msg.time), ...externalSourceOf(src) });
      return [fromMessage(out, msg.time)];
    };
  },
  'into-c8y-alarms': ({ config, stores }) => {
    const root = stringOf(config, 'topic_root', 'into-c8y-alarms', 'te');
    const prefix = stringOf(config, 'c8y_prefix', 'into-c8y-alarms', 'c8y');
    return (msg) => {
      const parsed = parsedTopic(msg.topic, root);
      if (parsed === undefined || parsed.channel.kind !== 'alarm') return [msg];
      const src = c8ySource(msg.topic, root, stores);
      if (src === undefined) return [];
      const smartrestTopic = src.isMain || src.externalId === undefined ? `${prefix}/s/us` : `${prefix}/s/us/${src.externalId}`;
      const out = toC8yAlarm(parseAlarm(payloadText(msg)), { prefix, topicType: parsed.channel.type, smartrestTopic, now: new Date(msg.time), ...externalSourceOf(src) });
      return [fromMessage(out, msg.time)];
    };
  },
  'into-c8y-health-status': ({ config, stores }) => {
    const root = stringOf(config, 'topic_root', 'into-c8y-health-status', 'te');
    const prefix = stringOf(config, 'c8y_prefix', 'into-c8y-health-status', 'c8y');
    const defaultType = stringOf(config, 'service_type', 'into-c8y-health-status', 'service');
    const registrationOf = (entity: string): Record<string, unknown> | undefined => {
      const text = stores.mapper.get(entity);
      const json = text === undefined ? undefined : parseJson(text);
      return isJsonObject(json) ? json : undefined;
    };
    // The c8y mapper's health mapping (src/mapper/c8y/health.ts): a service's status → 102 on its parent's topic.
    return (msg) => {
      const parsed = parsedTopic(msg.topic, root);
      if (parsed === undefined || parsed.channel.kind !== 'health') return [msg];
      const reg = registrationOf(parsed.entity);
      if (reg === undefined || reg['@type'] !== 'service' || typeof reg['@id'] !== 'string') return [];
      const parent = typeof reg['@parent'] === 'string' ? reg['@parent'] : 'device/main//';
      const parentId = registrationOf(parent)?.['@id'];
      const topic = parent === 'device/main//' || typeof parentId !== 'string' ? `${prefix}/s/us` : `${prefix}/s/us/${parentId}`;
      const name = typeof reg['name'] === 'string' ? reg['name'] : (parsed.entity.split('/')[3] || reg['@id']);
      const type = typeof reg['type'] === 'string' ? reg['type'] : defaultType;
      return [{ topic, payload: encoder.encode(smartrestLine(102, reg['@id'], type, name, healthStatus(payloadText(msg)))), time: msg.time }];
    };
  },
  'cache-early-messages': ({ config, stores }) => {
    const root = stringOf(config, 'topic_root', 'cache-early-messages', 'te');
    const limit = typeof config['max_messages'] === 'number' ? config['max_messages'] : 10_000;
    const early = new EarlyMessages(limit);
    const known = (entity: string): boolean => entity === 'device/main//' || stores.mapper.get(entity) !== undefined;
    const held = new Set<EntityTopicId>();
    // What waited for entities registered since: in arrival order, before the message at hand.
    const released = (): FlowMessage[] => {
      const out: FlowMessage[] = [];
      for (const entity of [...held]) {
        if (!known(entity)) continue;
        held.delete(entity);
        // EarlyMessages keeps what it is given: these are the FlowMessages held below.
        for (const m of early.release(entity)) out.push(m as FlowMessage);
      }
      return out;
    };
    const transform: Transform = (msg) => {
      const out = released();
      const entity = entityKey(msg.topic, root);
      // Registrations themselves (te/<id>) always pass: they are what releases the others.
      if (entity === undefined || known(entity) || msg.topic === `${root}/${entity}`) return [...out, msg];
      held.add(entity);
      early.hold(entity, msg);
      return out;
    };
    transform.onInterval = () => released();
    // At a stop (or a reload replacing the flow) the entities still unknown cannot be mapped (no cloud id):
    // their messages are dropped, and said so, rather than published under a guessed identity.
    transform.lostAtEnd = () => {
      if (early.size === 0) return undefined;
      const entities = [...held];
      return `${early.size} message(s) of entities never registered are dropped as the flow ends: ${entities.slice(0, 5).join(', ')}${entities.length > 5 ? `, and ${entities.length - 5} more` : ''}`;
    };
    return transform;
  },
  'group-measurements': ({ config }) => {
    const window = config['time_window'];
    let windowMs = 500;
    if (window !== undefined) {
      try {
        windowMs = durationMs(String(window));
      } catch {
        throw new TedgeError('CONFIG_INVALID_VALUE', `group-measurements: Invalid time_window: not a duration: ${String(window)}`);
      }
    }
    return groupMeasurements(windowMs);
  },
};

export function builtinNames(): string[] {
  return Object.keys(BUILTINS).sort();
}

/** A builtin as a step of the chain; unknown names and bad config are CONFIG errors (the flow is not loaded). */
export class BuiltinStep implements Step {
  readonly hasInterval: boolean;
  private readonly transform: Transform;

  constructor(
    readonly label: string,
    config: Record<string, unknown>,
    readonly intervalMs: number,
    stores: StepStores,
    services: BuiltinServices = {},
  ) {
    const make = BUILTINS[label];
    if (make === undefined) throw new TedgeError('CONFIG_INVALID_VALUE', `unknown builtin step '${label}': known are ${builtinNames().join(', ')}`);
    this.transform = make({ config, stores, services });
    this.hasInterval = this.transform.onInterval !== undefined;
  }

  onStartup(): StepOutcome {
    return { outputs: [], failures: [] };
  }

  onInterval(now: number, final = false): StepOutcome {
    try {
      const outputs = this.transform.onInterval?.(now, final) ?? [];
      const lost = final ? this.transform.lostAtEnd?.() : undefined;
      return { outputs, failures: lost === undefined ? [] : [{ step: this.label, topic: 'onInterval', error: lost }] };
    } catch (err) {
      return { outputs: [], failures: [{ step: this.label, topic: 'onInterval', error: errorMessage(err) }] };
    }
  }

  onMessages(batch: readonly FlowMessage[]): StepOutcome {
    const outcome: StepOutcome = { outputs: [], failures: [] };
    for (const msg of batch) {
      try {
        for (const out of this.transform(msg)) outcome.outputs.push(out);
      } catch (err) {
        outcome.failures.push({ step: this.label, topic: msg.topic, error: errorMessage(err) });
      }
    }
    return outcome;
  }
}
