import { type Message, message } from '../../core/message';
import { parseJson } from '../../core/json';
import type { C8yEntity, C8yEntityCache } from './entity-cache';
import { type RegistrationOptions, serviceName, serviceType } from './registration';
import { smartrestLine } from './smartrest';

/**
 * The status in a health payload: JSON `{"status":"up"}`, or mosquitto's bridge notification `1`/`0`.
 * Anything unreadable is `unknown`, as thin-edge reports it.
 */
export function healthStatus(payload: string): string {
  if (payload === '1') return 'up';
  if (payload === '0') return 'down';
  try {
    const json = parseJson(payload);
    if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
      const status = json['status'];
      if (typeof status === 'string' && status !== '') return status;
    }
  } catch {
    // an unreadable status is reported as unknown, not as an error
  }
  return 'unknown';
}

/** Service health → 102 on the parent's SmartREST topic; devices' health is not mapped. */
export function healthMessages(entity: C8yEntity, payload: string, cache: C8yEntityCache, opts: RegistrationOptions): Message[] {
  if (entity.type !== 'service') return [];
  const topic = cache.smartrestTopic(entity.parent ?? entity.topicId);
  return [message(topic, smartrestLine(102, entity.externalId, serviceType(entity, opts), serviceName(entity), healthStatus(payload)), { qos: 1 })];
}
