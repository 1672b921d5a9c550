import type { Message } from './message';

/**
 * A converter maps one inbound message to 0..n outbound messages. It does no I/O and reads no clock:
 * time comes in as an argument. It may keep in-memory state (entity cache, units), never hidden I/O.
 * Invalid input throws ConversionError; the runtime turns that into one message on `te/errors`.
 *
 * @example
 *   const out = converter.convert(message('te/device/main///m/env', '{"t":1}'), new Date());
 */
export interface Converter {
  /** Topic filters the converter needs to see. */
  readonly filters: readonly string[];
  convert(msg: Message, now: Date): Message[];
  /** Messages to publish once connected (e.g. supported operations). */
  startupMessages?(now: Date): Message[];
  /**
   * For converters that hold messages back (batching): what is due at `now`, or everything held
   * when `drain` (the mapper is stopping). The runtime calls it when `nextFlushAt` says.
   */
  flush?(now: Date, drain: boolean): Message[];
  /** When `flush` is next due; undefined while nothing is held. */
  nextFlushAt?(): Date | undefined;
}
