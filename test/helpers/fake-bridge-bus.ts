import type { AckingHandler } from '../../src/bus/bus';
import type { BridgeBus } from '../../src/bridge/cloud-link';
import type { Message, QoS } from '../../src/core/message';

/**
 * One side of the bridge in unit tests: records what the bridge publishes and subscribes, lets
 * the test deliver messages and see which ones the bridge acknowledged, and drop the connection.
 */
export class FakeBridgeBus implements BridgeBus {
  readonly published: Message[] = [];
  readonly subscribed: Array<{ filters: readonly string[]; qos: QoS }> = [];
  readonly acked: Message[] = [];
  closed = false;
  /** When false, publishes stay pending (no PUBACK) until `releasePublishes`. */
  autoPuback = true;
  private pending: Array<() => void> = [];
  private handler: AckingHandler = () => {};
  private connectionHandlers: Array<(c: boolean) => void> = [];

  onMessage(handler: (msg: Message) => void): void {
    this.handler = (m, ack) => {
      handler(m);
      ack();
    };
  }

  onMessageWithAck(handler: AckingHandler): void {
    this.handler = handler;
  }

  get isConnected(): boolean {
    return !this.closed;
  }

  onConnectionChange(handler: (connected: boolean) => void): void {
    this.connectionHandlers.push(handler);
  }

  async subscribe(filters: readonly string[], qos: QoS = 1): Promise<void> {
    this.subscribed.push({ filters, qos });
  }

  async unsubscribe(): Promise<void> {}

  publish(msg: Message): Promise<void> {
    if (this.closed) return Promise.reject(new Error('closed'));
    this.published.push(msg);
    if (this.autoPuback) return Promise.resolve();
    return new Promise((resolve) => this.pending.push(resolve));
  }

  releasePublishes(): void {
    const p = this.pending;
    this.pending = [];
    for (const resolve of p) resolve();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  async abort(): Promise<void> {
    this.closed = true;
  }

  /** A message from this side's broker; `acked` gets it when the bridge acknowledges. */
  deliver(msg: Message, redelivered = false): void {
    this.handler(msg, () => this.acked.push(msg), redelivered);
  }

  /** The broker connection drops. */
  drop(): void {
    this.closed = true;
    for (const h of this.connectionHandlers) h(false);
  }

  texts(topic: string): string[] {
    return this.published.filter((m) => m.topic === topic).map((m) => Buffer.from(m.payload).toString());
  }
}

/** Waits (in real time, briefly) for something the bridge does after file I/O. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
