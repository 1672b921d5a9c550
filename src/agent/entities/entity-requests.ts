import type { EntityRegistration, EntityType } from '../../core/entity';
import type { EntityTopicId } from '../../core/topics';
import type { EntityStore } from './entity-store';

/**
 * Why a request on the entity store (HTTP entity API) was refused. `kind` is what the caller branches
 * on (it picks the HTTP status); the message follows thin-edge's wording so clients see the same text.
 */
export type EntityRequestErrorKind = 'not-found' | 'conflict' | 'invalid';

export class EntityRequestError extends Error {
  constructor(
    readonly kind: EntityRequestErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'EntityRequestError';
  }
}

export function unknownEntity(topicId: EntityTopicId): EntityRequestError {
  return new EntityRequestError('not-found', `The specified entity: ${topicId} does not exist in the entity store`);
}

export function unknownParent(parent: EntityTopicId): EntityRequestError {
  return new EntityRequestError('invalid', `The specified parent "${parent}" does not exist in the entity store`);
}

/** What PATCH may change (thin-edge's EntityUpdateMessage). */
export interface EntityUpdate {
  readonly parent?: EntityTopicId;
  readonly health?: EntityTopicId;
}

/** `GET /te/v1/entities?root=&parent=&type=`; `root` and `parent` exclude each other. */
export interface ListFilters {
  readonly root?: EntityTopicId;
  readonly parent?: EntityTopicId;
  readonly type?: EntityType;
}

/**
 * The entities of a query, as thin-edge lists them: breadth first from `root` (or `parent`, or the main
 * device), children in topic-id order; `parent` keeps only the direct children of that parent and
 * `type` only entities of that type. An unknown start gives an empty list, not an error.
 */
export function listEntities(store: EntityStore, filters: ListFilters): EntityRegistration[] {
  const start = filters.root ?? filters.parent ?? store.mainDevice;
  const first = store.get(start);
  if (!first) return [];
  const out: EntityRegistration[] = [];
  const queue: EntityRegistration[] = [first];
  for (let e = queue.shift(); e !== undefined; e = queue.shift()) {
    const typeOk = filters.type === undefined || e.type === filters.type;
    const parentOk = filters.parent === undefined || (e.parent ?? undefined) === filters.parent;
    if (typeOk && parentOk) out.push(e);
    if (filters.parent === undefined || filters.parent === e.topicId) {
      queue.push(...store.children(e.topicId).sort((a, b) => (a.topicId < b.topicId ? -1 : a.topicId > b.topicId ? 1 : 0)));
    }
  }
  return out;
}

/** What refuses a new registration over HTTP: it exists already, or its parent is not registered (yet). */
export function checkCreate(store: EntityStore, reg: EntityRegistration): void {
  if (store.isRegistered(reg.topicId)) throw new EntityRequestError('conflict', `An entity with topic id: ${reg.topicId} is already registered`);
  if (reg.parent !== undefined && !store.isRegistered(reg.parent)) throw unknownParent(reg.parent);
}

/** The registration after a PATCH, with thin-edge's checks in its order and wording; throws what it refuses. */
export function updatedRegistration(store: EntityStore, topicId: EntityTopicId, change: EntityUpdate): EntityRegistration {
  const existing = store.get(topicId);
  if (!existing) throw unknownEntity(topicId);
  const invalid = (text: string): EntityRequestError => new EntityRequestError('invalid', text);
  const { parent, health } = change;
  if (parent !== undefined) {
    if (parent === topicId) throw invalid(`Entity: '${topicId}' can not be its own parent`);
    if (topicId === store.mainDevice) throw invalid('The parent of main device can not be updated');
    const p = store.get(parent);
    if (!p) throw unknownParent(parent);
    if (p.type === 'service') throw invalid(`Entity: '${parent}' can not be a parent of '${topicId}' because it is a service. Only devices can be parents`);
    if (store.descendants(topicId).some((d) => d.topicId === parent)) {
      throw invalid(`Entity: '${parent}' can not be a parent of '${topicId}' because '${parent}' is a descendent of '${topicId}'`);
    }
  }
  if (health !== undefined) {
    const h = store.get(health);
    if (!h) throw invalid(`The specified health endpoint: ${health} does not exist in the entity store`);
    if (h.type !== 'service') {
      throw invalid(`Entity: '${health}' can not be a health endpoint of '${topicId}' because it is not a service. Only services can be health endpoints`);
    }
  }
  return { ...existing, ...(parent !== undefined ? { parent } : {}), ...(health !== undefined ? { health } : {}) };
}
