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
