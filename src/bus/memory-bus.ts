import type { Message } from '../core/message';
import type { AckingHandler, Bus } from './bus';
import { topicMatches } from './topic-filter';

/**
 * An in-process broker for unit tests: real wildcard matching and retained messages,
 * synchronous delivery so tests need no timers.
 */
export class MemoryBroker {
  private readonly clients = new Set<MemoryBus>();
  private readonly retained = new Map<string, Message>();
  /** Every message published, in order: what tests assert on. */
  readonly published: Message[] = [];

  connect(): MemoryBus {
    const bus = new MemoryBus(this);
    this.clients.add(bus);
    return bus;
  }

  /** @internal */
  route(msg: Message): void {
    this.published.push(msg);
    if (msg.retain) {
      if (msg.payload.length === 0) this.retained.delete(msg.topic);
      else this.retained.set(msg.topic, msg);
    }
    for (const client of this.clients) client.deliver({ ...msg, retain: false });
  }

  /** @internal */
  retainedMatching(filter: string): Message[] {
    return [...this.retained.values()].filter((m) => topicMatches(filter, m.topic));
  }

  /** @internal */
  disconnect(bus: MemoryBus): void {
    this.clients.delete(bus);
  }
}

export class MemoryBus implements Bus {
  private handler: (msg: Message) => void = () => {};
  private readonly filters = new Set<string>();

  constructor(private readonly broker: MemoryBroker) {}

  /** Acknowledgements, in order: what a unit test of a consumer with manual acks asserts on. */
  readonly acked: Message[] = [];

  onMessage(handler: (msg: Message) => void): void {
    this.handler = handler;
  }

  onMessageWithAck(handler: AckingHandler): void {
    this.handler = (msg) => handler(msg, () => this.acked.push(msg), false);
  }

  readonly isConnected = true;

  onConnectionChange(handler: (connected: boolean) => void): void {
    handler(true);
  }

  async subscribe(filters: readonly string[]): Promise<void> {
    for (const f of filters) {
      this.filters.add(f);
      for (const m of this.broker.retainedMatching(f)) this.handler(m);
    }
  }

  async unsubscribe(filters: readonly string[]): Promise<void> {
    for (const f of filters) this.filters.delete(f);
  }

  async publish(msg: Message): Promise<void> {
    this.broker.route(msg);
  }

  async close(): Promise<void> {
    this.broker.disconnect(this);
  }

  /** @internal */
  deliver(msg: Message): void {
    for (const f of this.filters) {
      if (topicMatches(f, msg.topic)) {
        this.handler(msg);
        return;
      }
    }
  }
}
