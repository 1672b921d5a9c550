import { type Message, message } from '../../core/message';
import { defaultSchemeParts } from '../../core/topics';
import type { C8yEntity, C8yEntityCache } from './entity-cache';
import { smartrestLine } from './smartrest';

export interface RegistrationOptions {
  /** c8y.smartrest.child_device.create_with_device_marker */
  readonly createWithDeviceMarker: boolean;
  /** service.type, the default type of services */
  readonly serviceType: string;
}

function twinString(entity: C8yEntity, key: string): string | undefined {
  const v = entity.registration.twin[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Name of a service: its `name`, else the `<s>` of device/<d>/service/<s>, else its external id. */
export function serviceName(entity: C8yEntity): string {
  return twinString(entity, 'name') ?? defaultSchemeParts(entity.topicId)?.service ?? entity.externalId;
}

export function serviceType(entity: C8yEntity, opts: RegistrationOptions): string {
  return twinString(entity, 'type') ?? opts.serviceType;
}

/**
 * A registered child device → 101, a service → 102 with status up, both on the parent's SmartREST topic.
 * The main device is created by `tedge connect`, so its registration maps to nothing.
 */
export function registrationMessages(entity: C8yEntity, cache: C8yEntityCache, opts: RegistrationOptions): Message[] {
  const parentTopic = cache.smartrestTopic(entity.parent ?? entity.topicId);
  switch (entity.type) {
    case 'device':
      return [];
    case 'child-device': {
      const name = twinString(entity, 'name') ?? entity.externalId;
      const type = twinString(entity, 'type') ?? 'thin-edge.io-child';
      return [message(parentTopic, smartrestLine(101, entity.externalId, name, type, String(opts.createWithDeviceMarker)), { qos: 1 })];
    }
    case 'service':
      return [message(parentTopic, smartrestLine(102, entity.externalId, serviceType(entity, opts), serviceName(entity), 'up'), { qos: 1 })];
  }
}
