import { isDeepStrictEqual } from 'node:util';
import type { EntityRegistration } from '../../core/entity';
import { type EntityTopicId, MAIN_DEVICE } from '../../core/topics';

/** Why an entity was not (or no longer) registered; the service reports it on te/errors. */
export interface Rejection {
  readonly topicId: EntityTopicId;
  readonly reason: string;
}

export type RegisterOutcome =
  /** New entities, parents first: the one registered plus any children that were waiting for it. */
  | { readonly kind: 'registered'; readonly entities: readonly EntityRegistration[]; readonly dropped: readonly Rejection[] }
  | { readonly kind: 'updated'; readonly entity: EntityRegistration; readonly previous: EntityRegistration }
  | { readonly kind: 'unchanged' }
  /** Held until its parent is registered: retained registrations arrive in no particular order. */
  | { readonly kind: 'pending'; readonly parent: EntityTopicId }
  | { readonly kind: 'rejected'; readonly reason: string };

/** Entities waiting for their parent; a bound keeps a flood of orphans from growing memory without limit. */
export const DEFAULT_MAX_PENDING = 10_000;

/**
 * The agent's entity store (§1.3), in memory and without I/O: the tree of registered entities rooted at
 * the main device, and the registrations that wait for a parent not registered yet.
 *
 * Rules:
 * - the main device always exists; registering it explicitly only adds `@id` and twin data;
 * - an entity whose parent is unknown is held (not rejected) and registered when the parent arrives,
 *   because the broker replays retained registrations in topic order, not in parent-first order;
 * - on update only `@parent`, `@health` and the twin data may change; `@type` and `@id` are immutable
 *   (an update without `@id` keeps the registered one), and a new `@parent` must already be registered;
 * - only devices have children: a service cannot be a parent;
 * - deregistering an entity removes its descendants too.
 */
export class EntityStore {
  private readonly entities = new Map<EntityTopicId, EntityRegistration>();
  private readonly childrenOf = new Map<EntityTopicId, Set<EntityTopicId>>();
  private readonly pending = new Map<EntityTopicId, EntityRegistration>();
  private readonly pendingChildrenOf = new Map<EntityTopicId, Set<EntityTopicId>>();
  /** False while the main device has only its implicit registration (nothing to persist or republish). */
  private explicitMain = false;

  constructor(
    readonly mainDevice: EntityTopicId = MAIN_DEVICE,
    private readonly maxPending: number = DEFAULT_MAX_PENDING,
  ) {
    this.entities.set(mainDevice, this.implicitMain());
  }

  private implicitMain(): EntityRegistration {
    return { topicId: this.mainDevice, type: 'device', twin: {} };
  }

  get(topicId: EntityTopicId): EntityRegistration | undefined {
    return this.entities.get(topicId);
  }

  isRegistered(topicId: EntityTopicId): boolean {
    return this.entities.has(topicId);
  }

  isPending(topicId: EntityTopicId): boolean {
    return this.pending.has(topicId);
  }

  /** Registered or waiting for its parent: in both cases it must not be auto-registered. */
  knows(topicId: EntityTopicId): boolean {
    return this.entities.has(topicId) || this.pending.has(topicId);
  }

  get size(): number {
    return this.entities.size;
  }

  /** Entities waiting for their parent. */
  pendingTopicIds(): EntityTopicId[] {
    return [...this.pending.keys()];
  }

  children(topicId: EntityTopicId): EntityRegistration[] {
    return [...(this.childrenOf.get(topicId) ?? [])].flatMap((id) => this.entities.get(id) ?? []);
  }

  /** All descendants of an entity, breadth first (parents before their children). */
  descendants(topicId: EntityTopicId): EntityRegistration[] {
    const out: EntityRegistration[] = [];
    const queue = [topicId];
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      for (const child of this.children(id)) {
        out.push(child);
        queue.push(child.topicId);
      }
    }
    return out;
  }

  /** Every explicitly registered entity, parents first: what is persisted and republished. */
  registrations(): EntityRegistration[] {
    const main = this.entities.get(this.mainDevice);
    const all = this.descendants(this.mainDevice);
    return this.explicitMain && main ? [main, ...all] : all;
  }

  register(reg: EntityRegistration): RegisterOutcome {
    if (reg.topicId === this.mainDevice) return this.registerMain(reg);
    const existing = this.entities.get(reg.topicId);
    if (existing) return this.update(existing, reg);
    // A newer registration of a waiting entity replaces the older one.
    this.unlinkPending(reg.topicId);
    const parent = reg.parent ?? this.mainDevice;
    const parentEntity = this.entities.get(parent);
    if (!parentEntity) {
      if (this.pending.size >= this.maxPending) {
        return { kind: 'rejected', reason: `too many entities (${this.maxPending}) are waiting for their parent to be registered` };
      }
      this.addPending(reg, parent);
      return { kind: 'pending', parent };
    }
    if (parentEntity.type === 'service') return { kind: 'rejected', reason: `its parent '${parent}' is a service; only devices can have children` };
    this.attach(reg, parent);
    const { released, dropped } = this.releaseWaitingChildren(reg);
    return { kind: 'registered', entities: [reg, ...released], dropped };
  }

  private registerMain(reg: EntityRegistration): RegisterOutcome {
    if (reg.type !== 'device') return { kind: 'rejected', reason: `the main device can only be registered with "@type":"device"` };
    const previous = this.entities.get(this.mainDevice) ?? this.implicitMain();
    if (this.explicitMain && reg.externalId !== undefined && reg.externalId !== previous.externalId) {
      return { kind: 'rejected', reason: immutableId(previous, reg) };
    }
    const next: EntityRegistration = reg.externalId === undefined && previous.externalId !== undefined ? { ...reg, externalId: previous.externalId } : reg;
    if (this.explicitMain && isDeepStrictEqual(next, previous)) return { kind: 'unchanged' };
    this.entities.set(this.mainDevice, next);
    this.explicitMain = true;
    return { kind: 'updated', entity: next, previous };
  }

  private update(existing: EntityRegistration, reg: EntityRegistration): RegisterOutcome {
    if (reg.type !== existing.type) {
      return { kind: 'rejected', reason: `"@type" cannot change: '${reg.topicId}' is registered as ${existing.type}, not ${reg.type}` };
    }
    if (reg.externalId !== undefined && reg.externalId !== existing.externalId) return { kind: 'rejected', reason: immutableId(existing, reg) };
    const next: EntityRegistration = reg.externalId === undefined && existing.externalId !== undefined ? { ...reg, externalId: existing.externalId } : reg;
    if (isDeepStrictEqual(next, existing)) return { kind: 'unchanged' };
    const parent = next.parent ?? this.mainDevice;
    if (parent !== existing.parent) {
      const parentEntity = this.entities.get(parent);
      if (!parentEntity) return { kind: 'rejected', reason: `its new parent '${parent}' is not registered` };
      if (parentEntity.type === 'service') return { kind: 'rejected', reason: `its parent '${parent}' is a service; only devices can have children` };
      if (this.isAncestorOrSelf(next.topicId, parent)) return { kind: 'rejected', reason: `'${parent}' is one of its descendants; the parent would form a cycle` };
      this.detach(existing);
    }
    this.attach(next, parent);
    return { kind: 'updated', entity: next, previous: existing };
  }

  /**
   * Removes an entity and all its descendants (registered or waiting), returning them, the entity first.
   * The main device cannot be removed: it falls back to its implicit registration and keeps its children.
   */
  deregister(topicId: EntityTopicId): EntityRegistration[] {
    if (topicId === this.mainDevice) {
      const previous = this.entities.get(topicId);
      if (!this.explicitMain || !previous) return [];
      this.entities.set(topicId, this.implicitMain());
      this.explicitMain = false;
      return [previous];
    }
    const waiting = this.pending.get(topicId);
    if (waiting) return this.removePending(topicId);
    const entity = this.entities.get(topicId);
    if (!entity) return [];
    const removed = [entity, ...this.descendants(topicId)];
    for (const e of [...removed].reverse()) {
      this.detach(e);
      this.entities.delete(e.topicId);
      this.childrenOf.delete(e.topicId);
    }
    return removed;
  }

  private attach(reg: EntityRegistration, parent: EntityTopicId): void {
    this.entities.set(reg.topicId, reg);
    let set = this.childrenOf.get(parent);
    if (!set) this.childrenOf.set(parent, (set = new Set()));
    set.add(reg.topicId);
  }

  private detach(reg: EntityRegistration): void {
    const parent = reg.parent ?? this.mainDevice;
    const set = this.childrenOf.get(parent);
    set?.delete(reg.topicId);
    if (set?.size === 0) this.childrenOf.delete(parent);
  }

  private isAncestorOrSelf(candidate: EntityTopicId, of: EntityTopicId): boolean {
    for (let id: EntityTopicId | undefined = of; id !== undefined; id = this.entities.get(id)?.parent) {
      if (id === candidate) return true;
    }
    return false;
  }

  private addPending(reg: EntityRegistration, parent: EntityTopicId): void {
    this.pending.set(reg.topicId, reg);
    let set = this.pendingChildrenOf.get(parent);
    if (!set) this.pendingChildrenOf.set(parent, (set = new Set()));
    set.add(reg.topicId);
  }

  /** Forgets one waiting entity, keeping the entities that wait for it. */
  private unlinkPending(topicId: EntityTopicId): EntityRegistration | undefined {
    const reg = this.pending.get(topicId);
    if (!reg) return undefined;
    this.pending.delete(topicId);
    const parent = reg.parent ?? this.mainDevice;
    const siblings = this.pendingChildrenOf.get(parent);
    siblings?.delete(topicId);
    if (siblings?.size === 0) this.pendingChildrenOf.delete(parent);
    return reg;
  }

  /** Removes a waiting entity and the entities waiting for it. */
  private removePending(topicId: EntityTopicId): EntityRegistration[] {
    const reg = this.unlinkPending(topicId);
    if (!reg) return [];
    const removed = [reg];
    for (const child of [...(this.pendingChildrenOf.get(topicId) ?? [])]) removed.push(...this.removePending(child));
    return removed;
  }

  /** Registers the entities that were waiting for `parent`, recursively, parents first. */
  private releaseWaitingChildren(parent: EntityRegistration): { released: EntityRegistration[]; dropped: Rejection[] } {
    const released: EntityRegistration[] = [];
    const dropped: Rejection[] = [];
    const queue = [parent];
    for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
      const waiting = this.pendingChildrenOf.get(p.topicId);
      if (!waiting) continue;
      this.pendingChildrenOf.delete(p.topicId);
      for (const id of waiting) {
        const child = this.pending.get(id);
        if (!child) continue;
        this.pending.delete(id);
        if (p.type === 'service') {
          dropped.push({ topicId: id, reason: `its parent '${p.topicId}' is a service; only devices can have children` });
          dropped.push(...this.removePendingChildren(id));
          continue;
        }
        this.attach(child, p.topicId);
        released.push(child);
        queue.push(child);
      }
    }
    return { released, dropped };
  }

  private removePendingChildren(topicId: EntityTopicId): Rejection[] {
    return [...(this.pendingChildrenOf.get(topicId) ?? [])].flatMap((id) =>
      this.removePending(id).map((r) => ({ topicId: r.topicId, reason: `its ancestor '${topicId}' could not be registered` })),
    );
  }
}

function immutableId(existing: EntityRegistration, reg: EntityRegistration): string {
  const was = existing.externalId === undefined ? 'none (the mappers derive one)' : `"${existing.externalId}"`;
  return `"@id" cannot change: '${reg.topicId}' is registered with @id ${was}, not "${reg.externalId ?? ''}"; deregister it first (empty retained message on its topic) to change it`;
}
