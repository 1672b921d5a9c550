import type { Bus } from '../bus/bus';
import type { Clock, Timers } from '../core/clock';
import type { Converter } from '../core/converter';
import { errorMessage, isConversionError } from '../core/errors';
import { type Message, message } from '../core/message';
import { errorsTopic } from '../core/topics';
import type { Logger } from '../log/logger';
import type { HealthReporter } from '../runtime/health';
import type { Service } from '../runtime/service';

export interface MapperStats {
  received: number;
  published: number;
  /** Inputs that could not be converted; each was reported on te/errors. */
  errors: number;
  /** Outputs the broker refused (e.g. disconnected); each was logged. */
  publishFailures: number;
}

/**
 * The generic mapper loop: subscribe → convert → publish. A conversion error becomes one message
 * on `te/errors` naming the input topic and the cause; the loop goes on. Nothing is dropped silently.
 */
export class MapperRuntime implements Service {
  readonly name: string;
  readonly stats: MapperStats = { received: 0, published: 0, errors: 0, publishFailures: 0 };
  /** The armed flush timer of a batching converter: when it fires, and how to cancel it. */
  private flushTimer: { readonly at: number; readonly cancel: () => void } | undefined;
  private stopped = false;

  constructor(
    private readonly deps: {
      readonly name: string;
      readonly bus: Bus;
      readonly clock: Clock;
      readonly converter: Converter;
      readonly health: HealthReporter;
      readonly logger: Logger;
      readonly topicRoot: string;
      /** Needed only by converters that batch (`flush`). */
      readonly timers?: Timers;
    },
  ) {
    this.name = deps.name;
    if (deps.converter.flush && !deps.timers) throw new Error(`${deps.name}: a batching converter needs timers`);
  }

  async start(): Promise<void> {
    const { bus, converter, health } = this.deps;
    bus.onMessage((m) => this.onMessage(m));
    // Subscribed before `up`: a client that waits for `up` and then publishes must not lose its message.
    await bus.subscribe([...converter.filters, ...health.checkFilters()], 1);
    await health.start();
    for (const m of converter.startupMessages?.(this.deps.clock.now()) ?? []) this.publish(m);
  }

  async stop(): Promise<void> {
    // Held batches go out before `down`: MQTT.js keeps publish order.
    this.stopped = true;
    this.flushTimer?.cancel();
    this.flushTimer = undefined;
    if (this.deps.converter.flush) this.flush(true);
    await this.deps.health.stop();
  }

  private onMessage(input: Message): void {
    this.stats.received++;
    if (this.deps.health.handle(input.topic)) return;
    let outputs: Message[] = [];
    try {
      outputs = this.deps.converter.convert(input, this.deps.clock.now());
    } catch (err) {
      this.reportError(input, err);
    }
    for (const out of outputs) this.publish(out);
    this.armFlush();
  }

  /** Keeps one timer armed for the earliest batch the converter holds; a no-op for other converters. */
  private armFlush(): void {
    const { converter, clock, timers } = this.deps;
    const due = converter.nextFlushAt?.();
    if (this.stopped || due === undefined || timers === undefined) return;
    const at = due.getTime();
    if (this.flushTimer !== undefined && this.flushTimer.at <= at) return;
    this.flushTimer?.cancel();
    const cancel = timers.after(Math.max(0, at - clock.now().getTime()), () => {
      this.flushTimer = undefined;
      this.flush(false);
    });
    this.flushTimer = { at, cancel };
  }

  private flush(drain: boolean): void {
    let outputs: Message[];
    try {
      outputs = this.deps.converter.flush?.(this.deps.clock.now(), drain) ?? [];
    } catch (err) {
      // No input to blame; not re-armed, so a failing flush cannot spin: the next input retries it.
      this.deps.logger.error({ err }, 'unexpected failure while flushing held messages');
      return;
    }
    for (const out of outputs) this.publish(out);
    this.armFlush();
  }

  private reportError(input: Message, err: unknown): void {
    this.stats.errors++;
    const text = `Failed to convert a message on topic '${input.topic}': ${errorMessage(err)}`;
    if (isConversionError(err)) this.deps.logger.warn({ topic: input.topic }, errorMessage(err));
    else this.deps.logger.error({ err, topic: input.topic }, 'unexpected failure while converting');
    this.publish(message(errorsTopic(this.deps.topicRoot), text, { qos: 1 }));
  }

  private publish(out: Message): void {
    // Not awaited: MQTT.js keeps publish order, and awaiting would serialise the loop on PUBACKs.
    this.deps.bus.publish(out).then(
      () => this.stats.published++,
      (err: unknown) => {
        this.stats.publishFailures++;
        this.deps.logger.error({ err, topic: out.topic }, 'publish failed');
      },
    );
  }
}
