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
  /** Topic filters the converter needs to see (read again when it reports `filtersChanged`). */
  readonly filters: readonly string[];
  convert(msg: Message, now: Date): Message[];
  /**
   * For converters with steps that run elsewhere (a flow's script steps in its worker thread): the
   * outputs of the input just converted that are still to come, or undefined when `convert` gave them
   * all. The runtime asks right after each `convert`; a converter without such steps leaves it out.
   */
  takeLater?(): Promise<Message[]> | undefined;
  /** Called before the runtime subscribes: starts what the converter runs beside the mapper's thread. */
  start?(host: ConverterHost): Promise<void>;
  /** Called once the runtime has stopped taking input and waited for what it took. */
  stop?(): Promise<void>;
  /** Messages to publish once connected (e.g. supported operations). */
  startupMessages?(now: Date): Message[];
  /**
   * For converters that hold messages back (batching, a flow's onInterval): what is due at `now`, or
   * everything held when `drain` (the mapper is stopping). The runtime calls it when `nextFlushAt` says,
   * then `takeLater` for what the flush set going elsewhere.
   */
  flush?(now: Date, drain: boolean): Message[];
  /** When `flush` is next due; undefined while nothing is held. */
  nextFlushAt?(): Date | undefined;
}

/** What the runtime lends a converter that changes while it runs (flows reloaded) or speaks on its own. */
export interface ConverterHost {
  /** Messages of no input (a flow's onStartup, a flow file that fails to load): published, not tied to an acknowledgement. */
  publish(msg: Message): void;
  /** The converter's filters changed: the runtime subscribes to the new ones and drops the ones gone. */
  filtersChanged(): void;
  /** `nextFlushAt` may be earlier than the runtime last asked (a reload added a flow with onInterval). */
  flushDueChanged?(): void;
  log(level: 'info' | 'warn' | 'error', text: string): void;
}

/** The rejection of `takeLater` for outputs that will never come (the converter was stopped): their input stays unacknowledged. */
export class ConverterStopped extends Error {
  constructor() {
    super('the converter was stopped before these outputs were made');
  }
}
