import { ConversionError } from '../../core/errors';
import { type JsonValue, parseJson } from '../../core/json';
import { type Message, message } from '../../core/message';
import type { C8yEntity } from './entity-cache';

/** Twin fragments Cumulocity knows under another name (§2.2). */
function fragmentName(entity: C8yEntity, key: string): string {
  if (key === 'firmware') return 'c8y_Firmware';
  if (key === 'agent') return 'c8y_Agent';
  if (key === 'type' && entity.type === 'service') return 'serviceType';
  return key;
}

/** JSON with object keys sorted at every level. */
export function canonicalJson(v: JsonValue): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k] ?? null)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function isRegisteredNameOrType(entity: C8yEntity, key: string, canonical: string): boolean {
  if (entity.type === 'device' || (key !== 'name' && key !== 'type')) return false;
  const registered = entity.registration.twin[key];
  return registered !== undefined && canonicalJson(registered) === canonical;
}

/**
 * Twin data → inventory updates, with repeated values suppressed (retained twins arrive again
 * after every reconnect). An empty payload deletes the fragment (`null`).
 */
export class InventoryMapper {
  private readonly last = new Map<string, string>();

  constructor(private readonly prefix: string) {}

  twinUpdate(entity: C8yEntity, key: string, payload: string): Message[] {
    let value: JsonValue;
    if (payload === '') value = null;
    else {
      try {
        value = parseJson(payload);
      } catch (cause) {
        throw new ConversionError(`Invalid twin value for "${key}": ${(cause as Error).message}`, { cause });
      }
    }
    const body = JSON.stringify({ [fragmentName(entity, key)]: value });
    const memo = `${entity.topicId}\u0000${key}`;
    // Compared in canonical form: the same object with its keys in another order is the same twin value.
    const canonical = canonicalJson(value);
    const last = this.last.get(memo);
    if (last === canonical) return [];
    this.last.set(memo, canonical);
    // The agent republishes a registration's name and type as twin data; 101/102 already carried them.
    if (last === undefined && isRegisteredNameOrType(entity, key, canonical)) return [];
    return [message(`${this.prefix}/inventory/managedObjects/update/${entity.externalId}`, body, { qos: 1 })];
  }

  forget(entity: C8yEntity): void {
    for (const k of [...this.last.keys()]) if (k.startsWith(`${entity.topicId}\u0000`)) this.last.delete(k);
  }
}
