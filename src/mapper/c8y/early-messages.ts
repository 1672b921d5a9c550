import type { Message } from '../../core/message';
import type { EntityTopicId } from '../../core/topics';

/**
 * Holds messages of entities the mapper does not know yet, until their registration arrives
 * (thin-edge's cache-early-messages). Bounded: past the limit the oldest are dropped and counted.
 */
export class EarlyMessages {
  private readonly waiting = new Map<EntityTopicId, Message[]>();
  private held = 0;
  dropped = 0;

  constructor(private readonly limit: number) {}

  /** Keeps `msg` until `entity` is registered; returns how many messages had to be dropped for it. */
  hold(entity: EntityTopicId, msg: Message): number {
    const queue = this.waiting.get(entity) ?? [];
    queue.push(msg);
    this.waiting.set(entity, queue);
    this.held++;
    let droppedNow = 0;
    while (this.held > this.limit) {
      const [oldestEntity, oldestQueue] = this.waiting.entries().next().value as [EntityTopicId, Message[]];
      oldestQueue.shift();
      if (oldestQueue.length === 0) this.waiting.delete(oldestEntity);
      this.held--;
      droppedNow++;
    }
    this.dropped += droppedNow;
    return droppedNow;
  }

  /** Removes and returns what waited for `entity`, in arrival order. */
  release(entity: EntityTopicId): Message[] {
    const queue = this.waiting.get(entity) ?? [];
    this.waiting.delete(entity);
    this.held -= queue.length;
    return queue;
  }

  get size(): number {
    return this.held;
  }
}
