import { MqttBus } from '../../src/bus/mqtt-bus';
import { type Message, message, payloadText } from '../../src/core/message';

let probeCount = 0;

/** A test's own MQTT client on the real broker: publishes, and records everything it subscribed to. */
export class BusProbe {
  readonly received: Message[] = [];
  private waiters: Array<() => void> = [];

  private constructor(readonly bus: MqttBus) {
    bus.onMessage((m) => {
      this.received.push(m);
      for (const w of this.waiters) w();
    });
  }

  static async connect(port: number, filters: readonly string[] = []): Promise<BusProbe> {
    const bus = await MqttBus.connect({ host: '127.0.0.1', port, clientId: `probe-${process.pid}-${probeCount++}`, cleanSession: true, connectTimeoutMs: 5000 });
    const probe = new BusProbe(bus);
    await bus.subscribe(filters, 1);
    return probe;
  }

  publish(topic: string, payload: string | Uint8Array, opts: { retain?: boolean; qos?: 0 | 1 | 2 } = {}): Promise<void> {
    return this.bus.publish(message(topic, payload, { qos: opts.qos ?? 1, retain: opts.retain ?? false }));
  }

  /** Messages on one topic as text, in arrival order. */
  texts(topic: string): string[] {
    return this.received.filter((m) => m.topic === topic).map((m) => payloadText(m));
  }

  /** Waits until `predicate` holds over everything received; fails with what did arrive. */
  async waitFor(predicate: (received: readonly Message[]) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    if (predicate(this.received)) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        const seen = this.received.map((m) => `[${m.topic}] ${Buffer.from(m.payload).toString()}`).join('\n  ');
        reject(new Error(`timed out waiting for ${what}; received:\n  ${seen}`));
      }, timeoutMs);
      const check = (): void => {
        if (predicate(this.received)) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve();
        }
      };
      this.waiters.push(check);
    });
  }

  /** Waits for a message on `topic` whose text satisfies `match` and returns that text. */
  async waitForText(topic: string, match: (text: string) => boolean = () => true, timeoutMs = 10_000): Promise<string> {
    let found: string | undefined;
    await this.waitFor(
      (all) => {
        found = all.filter((m) => m.topic === topic).map((m) => Buffer.from(m.payload).toString()).find(match);
        return found !== undefined;
      },
      `a message on ${topic}`,
      timeoutMs,
    );
    return found as string;
  }

  close(): Promise<void> {
    return this.bus.close();
  }
}
