import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Bus } from '../bus/bus';
import type { Clock } from '../core/clock';
import { type Message, message, payloadText } from '../core/message';
import type { Logger } from '../log/logger';
import { statusTimestamp } from '../runtime/health';

/** mosquitto's count of messages it dropped (queue and in-flight limits), since it started. */
export const BROKER_DROPPED_TOPIC = '$SYS/broker/publish/messages/dropped';

/** What the mapper last saw of the counter, kept under data.path across its restarts. */
interface Seen {
  readonly dropped: number;
  readonly at: string;
}

/**
 * What mosquitto dropped, made visible. While a mapper is down the broker queues its input, and past
 * `max_queued_messages` it drops the rest, counting it in $SYS only. The monitor compares the counter
 * with what it saw before its last stop: a rise (or, after a broker restart, any count) is logged and
 * published retained on `<service>/status/metrics/broker`. The counter is the broker's, for all its
 * clients: a rise says messages were lost on this device, not that they were this mapper's.
 */
export class BrokerDropMonitor {
  readonly filters = [BROKER_DROPPED_TOPIC];
  private previous: Seen | undefined;
  private first = true;
  private droppedSinceStart = 0;
  private droppedWhileDown = 0;

  constructor(
    private readonly deps: {
      readonly bus: Bus;
      readonly clock: Clock;
      readonly logger: Logger;
      /** Where the last seen count is kept (`<data.path>/mapper/<service>/broker-dropped.json`). */
      readonly statePath: string;
      /** `te/device/main/service/<service>/status/metrics/broker`. */
      readonly metricsTopic: string;
      readonly timestampFormat: 'unix' | 'rfc-3339';
    },
  ) {
    this.previous = readSeen(deps.statePath);
  }

  /** True when the message was the broker's counter (and it has been handled). */
  handle(msg: Message): boolean {
    if (msg.topic !== BROKER_DROPPED_TOPIC) return false;
    const dropped = Number(payloadText(msg));
    if (!Number.isSafeInteger(dropped) || dropped < 0) return true;
    const before = this.previous;
    // Lower than before: the broker restarted, and its count starts over from what it dropped since.
    const delta = before === undefined ? 0 : dropped >= before.dropped ? dropped - before.dropped : dropped;
    const now = this.deps.clock.now();
    if (this.first) this.droppedWhileDown = delta;
    else this.droppedSinceStart += delta;
    if (delta > 0) {
      const when = this.first ? `while the mapper was down (since ${before?.at ?? 'its last start'})` : 'just now';
      this.deps.logger.warn({ dropped: delta }, `the local broker dropped ${delta} messages ${when}: its queue limits (max_queued_messages) were reached; they are lost`);
    }
    if (delta > 0 || this.first) this.publish(now);
    this.first = false;
    this.previous = { dropped, at: now.toISOString() };
    writeSeen(this.deps.statePath, this.previous, this.deps.logger);
    return true;
  }

  private publish(now: Date): void {
    const payload = JSON.stringify({
      dropped_while_down: this.droppedWhileDown,
      dropped_since_start: this.droppedSinceStart,
      time: statusTimestamp(now, this.deps.timestampFormat),
    });
    void this.deps.bus.publish(message(this.deps.metricsTopic, payload, { qos: 1, retain: true })).catch(() => {});
  }
}

function readSeen(path: string): Seen | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<Seen>;
    return typeof v.dropped === 'number' && typeof v.at === 'string' ? { dropped: v.dropped, at: v.at } : undefined;
  } catch {
    return undefined; // first start, or unreadable: nothing to compare with
  }
}

function writeSeen(path: string, seen: Seen, logger: Logger): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, JSON.stringify(seen));
    renameSync(tmp, path);
  } catch (err) {
    logger.debug({ err }, 'cannot keep the broker drop count');
  }
}
