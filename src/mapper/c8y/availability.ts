import { type Message, message } from '../../core/message';
import { type EntityTopicId, MAIN_DEVICE, serviceTopicId, defaultSchemeParts } from '../../core/topics';
import type { C8yEntity } from './entity-cache';
import { smartrestLine } from './smartrest';

export interface AvailabilityOptions {
  /** `c8y.availability.enable` */
  readonly enabled: boolean;
  /** `c8y.availability.interval` in milliseconds: 117 in whole minutes, and the heartbeat period. */
  readonly intervalMs: number;
}

/**
 * Device availability as thin-edge's availability actor: `117,<minutes>` (the required interval) for the main
 * device at start and for each new child device, then every interval an empty inventory update `{}` (a
 * heartbeat) for each device whose health service (`@health`, else `device/<d>/service/tedge-agent`) is up.
 * Pure: the runtime asks `nextDue` and calls `heartbeats` when it is due.
 */
export class Availability {
  /** Device → the service whose health is its availability, and its external id. */
  private readonly devices = new Map<EntityTopicId, { health: EntityTopicId; externalId: string }>();
  private readonly up = new Set<EntityTopicId>();
  private next: number | undefined;

  constructor(
    private readonly opts: AvailabilityOptions,
    private readonly prefix: string,
    mainExternalId: string,
  ) {
    if (opts.enabled) this.devices.set(MAIN_DEVICE, { health: serviceTopicId('main', 'tedge-agent'), externalId: mainExternalId });
  }

  private minutes(): string {
    return String(Math.floor(this.opts.intervalMs / 60_000));
  }

  /** At start: the main device's 117; heartbeats are due one interval later. */
  startup(now: Date): Message[] {
    if (!this.opts.enabled) return [];
    this.next = now.getTime() + this.opts.intervalMs;
    return [message(`${this.prefix}/s/us`, smartrestLine(117, this.minutes()), { qos: 1 })];
  }

  /** A child device registered: its 117 on its own SmartREST topic the first time. */
  registered(entity: C8yEntity, smartrestTopic: string, now: Date): Message[] {
    if (!this.opts.enabled || entity.type !== 'child-device') return [];
    const health = entity.registration.health ?? this.defaultHealth(entity.topicId);
    if (health === undefined) return [];
    const known = this.devices.has(entity.topicId);
    this.devices.set(entity.topicId, { health, externalId: entity.externalId });
    this.next ??= now.getTime() + this.opts.intervalMs;
    return known ? [] : [message(smartrestTopic, smartrestLine(117, this.minutes()), { qos: 1 })];
  }

  private defaultHealth(topicId: EntityTopicId): EntityTopicId | undefined {
    const parts = defaultSchemeParts(topicId);
    return parts === undefined ? undefined : serviceTopicId(parts.device, 'tedge-agent');
  }

  removed(topicId: EntityTopicId): void {
    this.devices.delete(topicId);
  }

  /** A health status of any service: remembered for the devices it stands for. */
  health(service: EntityTopicId, status: string | undefined): void {
    if (status === 'up') this.up.add(service);
    else this.up.delete(service);
  }

  nextDue(): Date | undefined {
    return this.next === undefined ? undefined : new Date(this.next);
  }

  /** The heartbeats due at `now`; none while stopping. */
  heartbeats(now: Date, drain: boolean): Message[] {
    if (drain || this.next === undefined || now.getTime() < this.next) return [];
    while (this.next <= now.getTime()) this.next += this.opts.intervalMs;
    const out: Message[] = [];
    for (const d of this.devices.values()) {
      if (this.up.has(d.health)) out.push(message(`${this.prefix}/inventory/managedObjects/update/${d.externalId}`, '{}', { qos: 1 }));
    }
    return out;
  }
}
