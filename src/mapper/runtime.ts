import type { Bus } from '../bus/bus';
import type { Clock, Timers } from '../core/clock';
import { type Converter, type ConverterHost, ConverterStopped } from '../core/converter';
import { ConversionError, errorMessage, isConversionError } from '../core/errors';
import type { CloudPayloadLimit } from '../core/payload-limit';
import { type Message, message } from '../core/message';
import { errorsTopic } from '../core/topics';
import type { Logger } from '../log/logger';
import type { HealthReporter } from '../runtime/health';
import type { Service } from '../runtime/service';

/** A side input of the mapper, not converted: `handle` is true when the message was the monitor's. */
export interface InputMonitor {
  readonly filters: readonly string[];
  handle(msg: Message): boolean;
}

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
  /** Publishes whose input waits for its acknowledgement. */
  private readonly inFlight = new Set<Promise<void>>();
  /**
   * The last input whose outputs come later (takeLater), while they are not handed to the bus: inputs after
   * it go out after it, and are acknowledged after it. Undefined on the synchronous path.
   */
  private ordered: { readonly handed: Promise<void>; readonly acked: Promise<boolean> } | undefined;
  private subscribed = new Set<string>();
  private resubscribing: Promise<void> = Promise.resolve();

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
      /** Inputs beside the converter's, such as the broker's drop counter: each says whether a message was its own. */
      readonly monitors?: readonly InputMonitor[];
      /** The cloud's payload limit: a larger output for the cloud is not published but reported on te/errors. */
      readonly cloudLimit?: CloudPayloadLimit;
    },
  ) {
    this.name = deps.name;
    if (deps.converter.flush && !deps.timers) throw new Error(`${deps.name}: a batching converter needs timers`);
  }

  async start(): Promise<void> {
    const { bus, converter, health } = this.deps;
    bus.onMessageWithAck((m, ack) => this.onMessage(m, ack));
    await converter.start?.(this.host());
    // Subscribed before `up`: a client that waits for `up` and then publishes must not lose its message.
    this.subscribed = new Set(this.wantedFilters());
    await bus.subscribe([...this.subscribed], 1);
    await health.start();
    for (const m of converter.startupMessages?.(this.deps.clock.now()) ?? []) void this.publish(m);
    // What is due before any input (a flow's onInterval, statistics).
    this.armFlush();
  }

  /**
   * Stops taking input (what arrives from now on is not acknowledged: the broker keeps it for the next
   * start), sends out held batches, and waits up to `drainMs` for the outputs of what was taken, so
   * that their inputs can be acknowledged. Inputs still unfinished then stay unacknowledged too.
   */
  async stop(drainMs = 3000): Promise<void> {
    this.stopped = true;
    this.flushTimer?.cancel();
    this.flushTimer = undefined;
    // Held batches go out before `down`: MQTT.js keeps publish order.
    if (this.deps.converter.flush) this.flush(true);
    // With the broker gone nothing in flight can be accepted: its inputs come again at the next start.
    if (this.inFlight.size > 0 && this.deps.bus.isConnected) {
      const unfinished = await settleWithin([...this.inFlight], drainMs);
      if (unfinished > 0) this.deps.logger.warn({ unfinished }, 'stopped with outputs not yet accepted by the broker: their inputs stay unacknowledged and come again at the next start');
    }
    await this.deps.converter.stop?.();
    await this.deps.health.stop();
  }

  private wantedFilters(): string[] {
    return [...this.deps.converter.filters, ...this.deps.health.checkFilters(), ...(this.deps.monitors ?? []).flatMap((m) => m.filters)];
  }

  private host(): ConverterHost {
    const { logger } = this.deps;
    return {
      publish: (msg) => this.track(this.publish(msg).then(() => {})),
      filtersChanged: () => {
        this.resubscribing = this.resubscribing.then(() => this.resubscribe());
      },
      log: (level, text) => logger[level](text),
      flushDueChanged: () => this.armFlush(),
    };
  }

  /** After a reload of the converter: the new filters subscribed, those no longer wanted dropped. */
  private async resubscribe(): Promise<void> {
    if (this.stopped) return;
    const wanted = new Set(this.wantedFilters());
    const added = [...wanted].filter((f) => !this.subscribed.has(f));
    const removed = [...this.subscribed].filter((f) => !wanted.has(f));
    this.subscribed = wanted;
    try {
      if (added.length > 0) await this.deps.bus.subscribe(added, 1);
      if (removed.length > 0) await this.deps.bus.unsubscribe(removed);
      if (added.length + removed.length > 0) this.deps.logger.info({ added, removed }, 'input topics changed');
    } catch (err) {
      this.deps.logger.error({ err, added, removed }, 'cannot change the subscriptions to the new input topics');
    }
  }

  private onMessage(input: Message, ack: () => void): void {
    if (this.stopped) return;
    this.stats.received++;
    if (this.deps.health.handle(input.topic) || this.deps.monitors?.some((m) => m.handle(input))) {
      ack();
      return;
    }
    let outputs: Message[] = [];
    try {
      outputs = this.withinCloudLimit(this.deps.converter.convert(input, this.deps.clock.now()));
    } catch (err) {
      outputs = [this.errorMessage(input, err)];
    }
    const later = this.deps.converter.takeLater?.();
    if (later !== undefined || this.ordered !== undefined) this.publishInOrder(input, outputs, later, ack);
    // An input is acknowledged only once the broker has accepted every output (QoS 1 PUBACK): a stop or a
    // crash before then leaves it with the broker, which sends it again. An input held by the converter
    // (early messages, batches) is acknowledged at once: held inputs must not fill the broker's in-flight
    // window, or the registration that releases them could never arrive.
    else if (outputs.length === 0) ack();
    else {
      const accepted = Promise.all(outputs.map((out) => this.publish(out)));
      this.track(accepted.then((ok) => (ok.every(Boolean) || !this.stopped ? ack() : undefined)));
    }
    this.armFlush();
  }

  /**
   * The path of outputs that come later (a flow's script steps in its worker): each input's outputs are
   * handed to the bus after those of the inputs before it, and it is acknowledged after them. A worker
   * answers for a batch of inputs, not for each, so a batch's outputs may come with its first input:
   * acknowledging in input order is what covers the others.
   */
  private publishInOrder(input: Message, outputs: Message[], later: Promise<Message[]> | undefined, ack: () => void): void {
    const before = this.ordered;
    const handing = (async () => {
      await before?.handed;
      let all = outputs;
      try {
        if (later !== undefined) all = [...outputs, ...this.eachWithinCloudLimit(await later)];
      } catch (err) {
        if (err instanceof ConverterStopped) return undefined;
        all = [...outputs, this.errorMessage(input, err)];
      }
      // Wrapped: the caller gets the publishes as soon as they are handed over, not once accepted.
      return { accepted: Promise.all(all.map((out) => this.publish(out))) };
    })();
    const handed = handing.then(() => {});
    const acked = handing.then(async (h) => {
      const beforeOk = before === undefined || (await before.acked);
      if (h === undefined) return false;
      const ok = (await h.accepted).every(Boolean) && beforeOk;
      if (ok || !this.stopped) ack();
      return ok;
    });
    const mine = { handed, acked };
    this.ordered = mine;
    void handed.then(() => {
      if (this.ordered === mine) this.ordered = undefined;
    });
    this.track(acked.then(() => {}));
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
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
    // Their inputs were acknowledged when held; a stop still waits for them to reach the broker.
    for (const out of this.eachWithinCloudLimit(outputs)) this.track(this.publish(out).then(() => {}));
    // What the flush set going elsewhere (onInterval of a flow's script steps, in its worker): a stop waits for it too.
    const later = this.deps.converter.takeLater?.();
    if (later !== undefined) this.track(later.then((more) => this.publishHeld(more), (err: unknown) => this.flushFailed(err)));
    this.armFlush();
  }

  private async publishHeld(outputs: Message[]): Promise<void> {
    await Promise.all(this.eachWithinCloudLimit(outputs).map((out) => this.publish(out)));
  }

  private flushFailed(err: unknown): void {
    if (!(err instanceof ConverterStopped)) this.deps.logger.error({ err }, 'unexpected failure while flushing held messages');
  }

  /** Throws for an output the cloud would refuse (every message kind: alarms, twin, registrations, events). */
  private withinCloudLimit(outputs: Message[]): Message[] {
    const limit = this.deps.cloudLimit;
    if (limit === undefined) return outputs;
    for (const out of outputs) {
      if (out.payload.length > limit.bytes && limit.appliesTo(out.topic)) {
        throw new ConversionError(`The message for '${out.topic}' is too large for the cloud: ${out.payload.length} bytes, the limit is ${limit.bytes} (${limit.key})`);
      }
    }
    return outputs;
  }

  /** For outputs that came later, each on its own: one too large for the cloud becomes its te/errors message. */
  private eachWithinCloudLimit(outputs: Message[]): Message[] {
    if (this.deps.cloudLimit === undefined) return outputs;
    return outputs.map((out) => {
      try {
        return this.withinCloudLimit([out])[0] as Message;
      } catch (err) {
        return this.errorMessage(out, err);
      }
    });
  }

  /** The te/errors message for an input that could not be converted. */
  private errorMessage(input: Message, err: unknown): Message {
    this.stats.errors++;
    const text = `Failed to convert a message on topic '${input.topic}': ${errorMessage(err)}`;
    if (isConversionError(err)) this.deps.logger.warn({ topic: input.topic }, errorMessage(err));
    else this.deps.logger.error({ err, topic: input.topic }, 'unexpected failure while converting');
    return message(errorsTopic(this.deps.topicRoot), text, { qos: 1 });
  }

  /**
   * Not awaited by the loop: MQTT.js keeps publish order, and awaiting would serialise the loop on PUBACKs.
   * Resolves false when the broker did not accept it: while running that is permanent (MQTT.js queues
   * publishes across reconnects itself), so the input is acknowledged anyway and the failure counted.
   */
  private publish(out: Message): Promise<boolean> {
    return this.deps.bus.publish(out).then(
      () => {
        this.stats.published++;
        return true;
      },
      (err: unknown) => {
        this.stats.publishFailures++;
        if (!this.stopped) this.deps.logger.error({ err, topic: out.topic }, 'publish failed');
        return false;
      },
    );
  }
}

/** Waits for the promises, at most `ms`; resolves with how many had not settled by then. */
async function settleWithin(work: readonly Promise<unknown>[], ms: number): Promise<number> {
  let settled = 0;
  let timer: NodeJS.Timeout | undefined;
  const all = Promise.all(work.map((w) => w.then(() => settled++, () => settled++)));
  await Promise.race([all, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
  return work.length - settled;
}
