import type { Converter } from '../../core/converter';
import { ConversionError } from '../../core/errors';
import { type Message, message, payloadText } from '../../core/message';
import { Batcher, type CollectdSample, batchPayload } from './batcher';

/** A decimal number as collectd writes it; no hex, no blanks, no `nan`/`inf` (not JSON numbers). */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

const TOPIC_FORMAT = 'collectd/<hostname>/<metric-plugin-name>/<metric-key>';

/**
 * One collectd MQTT message to its samples. Topic `collectd/<host>/<plugin>/<metric>` (exactly
 * four levels; the host is not kept), payload `<unix time>:<value>[:<value>…]`, NUL-terminated
 * or not. Several values become `<metric>_val1`, `<metric>_val2`, … Wording as thin-edge's.
 */
export function parseCollectd(msg: Message): CollectdSample[] {
  const [prefix, , group, key, ...more] = msg.topic.split('/');
  if (prefix !== 'collectd' || !group || !key || more.length > 0) {
    throw new ConversionError(`Message received on invalid collectd topic: ${msg.topic}. Collectd message topics must be in the format ${TOPIC_FORMAT}`, { code: 'INVALID_TOPIC' });
  }
  if (group === 'time') throw new ConversionError(`The collectd plugin name 'time' would clash with the time of the measurement`);
  const text = payloadText(msg).replace(/\0+$/, '');
  const [stamp, ...values] = text.split(':');
  if (stamp === undefined || values.length === 0) {
    throw new ConversionError(`Invalid payload: ${JSON.stringify(text)}. Expected payload format: <timestamp>:<value>`);
  }
  const time = new Date(Number(stamp) * 1000);
  if (!NUMBER.test(stamp) || Number.isNaN(time.getTime())) {
    throw new ConversionError(`Invalid measurement timestamp: ${JSON.stringify(stamp)}. Epoch time value expected`);
  }
  return values.map((text, i) => {
    const value = Number(text);
    if (!NUMBER.test(text) || !Number.isFinite(value)) throw new ConversionError(`Invalid measurement value: ${JSON.stringify(text)}. Must be a number`);
    return { group, key: values.length > 1 ? `${key}_val${i + 1}` : key, value, time };
  });
}

export interface CollectdConverterOptions {
  /** Where batches go: the device's measurement topic with an empty type, `te/device/main///m/`. */
  readonly outputTopic: string;
  /** Samples this close in collectd time share a measurement, published this long after the first. */
  readonly windowMs: number;
}

/**
 * The collectd converter: parses each message into samples at once (a bad line is reported on
 * te/errors with its own topic) and holds them in a Batcher; the runtime's timer calls `flush`.
 */
export class CollectdConverter implements Converter {
  readonly filters = ['collectd/#'];
  private readonly batcher: Batcher;

  constructor(private readonly opts: CollectdConverterOptions) {
    this.batcher = new Batcher(opts.windowMs);
  }

  convert(msg: Message, now: Date): Message[] {
    // Parsed in full before anything is held, so a bad value leaves no half of a message behind.
    for (const sample of parseCollectd(msg)) this.batcher.add(sample, now);
    return [];
  }

  flush(now: Date, drain: boolean): Message[] {
    return this.batcher.flush(now, drain).map((batch) => message(this.opts.outputTopic, batchPayload(batch), { qos: 1 }));
  }

  nextFlushAt(): Date | undefined {
    const due = this.batcher.nextDue();
    return due === undefined ? undefined : new Date(due);
  }
}
