import { ConversionError } from './errors';
import { type JsonObject, type JsonValue, parseJsonObject } from './json';
import { type EntityTopicId, MAIN_DEVICE, defaultSchemeParts, deviceTopicId, isEntityTopicId } from './topics';

export type EntityType = 'device' | 'child-device' | 'service';

/** An entity as registered on `te/<id>` (§1.3). */
export interface EntityRegistration {
  readonly topicId: EntityTopicId;
  readonly type: EntityType;
  /** External id (`@id`); cloud mappers derive one when absent. */
  readonly externalId?: string;
  /** Parent topic id; undefined only for the main device. */
  readonly parent?: EntityTopicId;
  readonly health?: EntityTopicId;
  /** Every non-`@` key: initial twin data. */
  readonly twin: JsonObject;
}

const ENTITY_TYPES: ReadonlySet<string> = new Set(['device', 'child-device', 'service']);

function optionalTopicId(obj: JsonObject, key: string): EntityTopicId | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !isEntityTopicId(v)) {
    throw new ConversionError(`Invalid registration: "${key}" must be an entity topic id with 4 segments, e.g. "device/child01//"`);
  }
  return v;
}

/** The parent an entity gets when `@parent` is absent: a service's device, else the main device. */
export function defaultParent(topicId: EntityTopicId, type: EntityType): EntityTopicId | undefined {
  if (type === 'device') return undefined;
  if (type === 'service') {
    const parts = defaultSchemeParts(topicId);
    if (parts?.service !== undefined) return deviceTopicId(parts.device);
  }
  return MAIN_DEVICE;
}

export function registrationFromJson(topicId: EntityTopicId, obj: JsonObject): EntityRegistration {
  const type = obj['@type'];
  if (typeof type !== 'string' || !ENTITY_TYPES.has(type)) {
    throw new ConversionError(`Invalid registration: "@type" must be one of device, child-device, service`);
  }
  const entityType = type as EntityType;
  if (entityType === 'device' && topicId !== MAIN_DEVICE) {
    throw new ConversionError(`Invalid registration: "@type":"device" is reserved for the main device`);
  }
  const xid = obj['@id'];
  if (xid !== undefined && (typeof xid !== 'string' || xid === '')) {
    throw new ConversionError(`Invalid registration: "@id" must be a non-empty string`);
  }
  const parent = optionalTopicId(obj, '@parent') ?? defaultParent(topicId, entityType);
  if (parent === topicId) throw new ConversionError(`Invalid registration: an entity cannot be its own parent`);
  const twin: JsonObject = {};
  for (const [k, v] of Object.entries(obj)) if (!k.startsWith('@')) twin[k] = v;
  const r: { -readonly [K in keyof EntityRegistration]: EntityRegistration[K] } = { topicId, type: entityType, twin };
  if (typeof xid === 'string') r.externalId = xid;
  if (parent !== undefined) r.parent = parent;
  const health = optionalTopicId(obj, '@health');
  if (health !== undefined) r.health = health;
  return r;
}

/** Parses a registration payload; undefined for the empty payload that deregisters. */
export function parseRegistration(topicId: EntityTopicId, text: string): EntityRegistration | undefined {
  if (text.length === 0) return undefined;
  return registrationFromJson(topicId, parseJsonObject(text, 'an entity registration'));
}

export function registrationToJson(r: EntityRegistration): JsonObject {
  const obj: { [k: string]: JsonValue } = { '@type': r.type };
  if (r.externalId !== undefined) obj['@id'] = r.externalId;
  if (r.parent !== undefined) obj['@parent'] = r.parent;
  if (r.health !== undefined) obj['@health'] = r.health;
  return { ...obj, ...r.twin };
}

/**
 * The registrations a message from an unknown `device/<d>/service/<s>` entity implies (§1.3 auto-registration):
 * its device (unless main) and then the service. Undefined for other schemes, which must register explicitly.
 */
export function autoRegistrations(topicId: EntityTopicId): EntityRegistration[] | undefined {
  const parts = defaultSchemeParts(topicId);
  if (parts === undefined) return undefined;
  const device = deviceTopicId(parts.device);
  const out: EntityRegistration[] = [];
  if (device !== MAIN_DEVICE) {
    out.push({ topicId: device, type: 'child-device', parent: MAIN_DEVICE, twin: { name: parts.device } });
  }
  if (parts.service !== undefined) {
    out.push({ topicId, type: 'service', parent: device, twin: { name: parts.service, type: 'service' } });
  }
  return out;
}
