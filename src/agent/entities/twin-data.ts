import { isDeepStrictEqual } from 'node:util';
import type { JsonObject, JsonValue } from '../../core/json';
import type { EntityTopicId } from '../../core/topics';

/**
 * The twin fragments of each entity as the bus last said them (`te/<id>/twin/<key>`, retained), so the
 * HTTP API can answer GET without asking the broker. In memory only: the broker's retained messages are
 * the durable copy and are replayed to the agent on every (re)subscription.
 */
export class TwinData {
  private readonly byEntity = new Map<EntityTopicId, Map<string, JsonValue>>();

  /** Fragments in key order (thin-edge serves them sorted); empty for an entity without twin data. */
  fragments(topicId: EntityTopicId): JsonObject {
    const map = this.byEntity.get(topicId);
    const out: JsonObject = {};
    if (!map) return out;
    for (const key of [...map.keys()].sort()) out[key] = map.get(key) ?? null;
    return out;
  }

  get(topicId: EntityTopicId, key: string): JsonValue | undefined {
    return this.byEntity.get(topicId)?.get(key);
  }

  /** Sets (or, with null, removes) one fragment; true when that changed anything. */
  set(topicId: EntityTopicId, key: string, value: JsonValue): boolean {
    let map = this.byEntity.get(topicId);
    if (value === null) {
      if (!map?.has(key)) return false;
      map.delete(key);
      if (map.size === 0) this.byEntity.delete(topicId);
      return true;
    }
    if (!map) this.byEntity.set(topicId, (map = new Map()));
    const previous = map.get(key);
    map.set(key, value);
    return previous === undefined || !isDeepStrictEqual(previous, value);
  }

  /** Forgets an entity; returns the keys it had (their retained messages are the caller's to clear). */
  forget(topicId: EntityTopicId): string[] {
    const keys = [...(this.byEntity.get(topicId)?.keys() ?? [])];
    this.byEntity.delete(topicId);
    return keys;
  }
}

/**
 * Why a twin key is refused: thin-edge's rule (empty, `/`, leading `@`) plus what cannot be an MQTT
 * topic level (`+`, `#`, NUL). Undefined when the key is fine.
 */
export function invalidTwinKey(key: string): string | undefined {
  if (key === '' || key.startsWith('@') || /[/+#\u0000]/.test(key)) {
    return `Invalid twin key: '${key}'. Keys that are empty, containing '/', '+', '#' or starting with '@' are not allowed`;
  }
  return undefined;
}
