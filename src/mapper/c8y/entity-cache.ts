import type { EntityRegistration, EntityType } from '../../core/entity';
import { type EntityTopicId, MAIN_DEVICE } from '../../core/topics';

/** What the c8y mapper knows of an entity: its registration and the external id Cumulocity knows it by. */
export interface C8yEntity {
  readonly topicId: EntityTopicId;
  readonly type: EntityType;
  readonly externalId: string;
  readonly parent?: EntityTopicId;
  readonly registration: EntityRegistration;
}

/** `<main>:` + topic id with `/` → `:` and empty segments dropped (§2.2). */
export function deriveExternalId(mainDeviceId: string, topicId: EntityTopicId): string {
  return [mainDeviceId, ...topicId.split('/').filter((s) => s !== '')].join(':');
}

/** The c8y mapper's own view of registered entities; the main device is always there. */
export class C8yEntityCache {
  private readonly byTopic = new Map<EntityTopicId, C8yEntity>();
  private readonly byXid = new Map<string, C8yEntity>();

  constructor(
    readonly mainDeviceId: string,
    readonly prefix: string = 'c8y',
  ) {
    this.add({ topicId: MAIN_DEVICE, type: 'device', twin: {} });
  }

  /** Adds or updates an entity; returns it with its external id resolved. */
  add(registration: EntityRegistration): C8yEntity {
    const previous = this.byTopic.get(registration.topicId);
    const externalId =
      registration.topicId === MAIN_DEVICE ? this.mainDeviceId : (previous?.externalId ?? registration.externalId ?? deriveExternalId(this.mainDeviceId, registration.topicId));
    const entity: C8yEntity = { topicId: registration.topicId, type: registration.type, externalId, registration };
    const withParent = registration.parent !== undefined ? { ...entity, parent: registration.parent } : entity;
    this.byTopic.set(registration.topicId, withParent);
    this.byXid.set(externalId, withParent);
    return withParent;
  }

  remove(topicId: EntityTopicId): void {
    const e = this.byTopic.get(topicId);
    if (!e || topicId === MAIN_DEVICE) return;
    this.byTopic.delete(topicId);
    this.byXid.delete(e.externalId);
  }

  get(topicId: EntityTopicId): C8yEntity | undefined {
    return this.byTopic.get(topicId);
  }

  has(topicId: EntityTopicId): boolean {
    return this.byTopic.has(topicId);
  }

  byExternalId(xid: string): C8yEntity | undefined {
    return this.byXid.get(xid);
  }

  /** SmartREST topic addressing the entity itself: `c8y/s/us` for the main device, else `c8y/s/us/<xid>`. */
  smartrestTopic(topicId: EntityTopicId): string {
    const e = this.byTopic.get(topicId);
    if (!e || e.topicId === MAIN_DEVICE) return `${this.prefix}/s/us`;
    return `${this.prefix}/s/us/${e.externalId}`;
  }

  /** `externalSource` fragment for child devices and services; undefined for the main device. */
  externalSource(topicId: EntityTopicId): { externalId: string; type: 'c8y_Serial' } | undefined {
    const e = this.byTopic.get(topicId);
    if (!e || e.topicId === MAIN_DEVICE) return undefined;
    return { externalId: e.externalId, type: 'c8y_Serial' };
  }

  all(): C8yEntity[] {
    return [...this.byTopic.values()];
  }
}
