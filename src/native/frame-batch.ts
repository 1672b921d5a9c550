/**
 * The batch API of the hot path: one parse() per socket chunk, packets read through accessors that
 * decode only what is asked for. A topic costs a table lookup once seen (native topic interning), a
 * payload one Buffer view; nothing else is created per packet.
 *
 * @example
 * const batch = new FrameBatch(createFrameCodec(native, { internTopics: true, protocolVersion: 4 }));
 * for (let n = batch.parse(chunk); n > 0; n = batch.resume()) {
 *   for (let i = 0; i < n; i++) if (batch.type(i) === 3) onMessage(batch.topic(i), batch.payload(i));
 * }
 */
import type { FrameCodec } from './frame-codec';
import { DESC_WORDS, FLAG_ERROR, FLAG_FROM_CARRY, META_OFFSET, META_PENDING, META_STATUS, parseErrorMessage } from './frame-format';
import { type MqttPacketObject, TopicTable, materialize } from './packet-materializer';

export class FrameBatch {
  private chunk: Buffer = Buffer.alloc(0);
  private count = 0;
  private recs: Int32Array | undefined;
  private recsTaken = false;
  private carry: Buffer | undefined;
  private readonly topics = new TopicTable();
  private readonly desc: Int32Array;
  private readonly meta: Int32Array;

  constructor(private readonly codec: FrameCodec) {
    this.desc = codec.desc;
    this.meta = codec.meta;
  }

  get isNative(): boolean {
    return this.codec.isNative;
  }

  /** Starts on a new chunk; returns how many packets (and at most one trailing error) are available. */
  parse(chunk: Buffer): number {
    this.chunk = chunk;
    return this.run(0);
  }

  /** The next batch of the same chunk (0 when it is consumed): the descriptor table holds a bounded number. */
  resume(): number {
    if (this.meta[META_STATUS] !== 1) return 0;
    return this.run(this.meta[META_OFFSET] as number);
  }

  /** What mqtt-packet's parse() would return after this chunk. */
  get pending(): number {
    return this.meta[META_PENDING] as number;
  }

  private run(offset: number): number {
    this.count = this.codec.parse(this.chunk, offset);
    this.recsTaken = false;
    this.recs = undefined;
    this.carry = undefined;
    if (this.count > 0 && (this.desc[0] as number) & FLAG_FROM_CARRY) this.carry = this.codec.takeCarry();
    this.topics.sync(this.desc, this.meta, this.count, this.chunk, this.carry);
    return this.count;
  }

  private source(i: number): Buffer {
    return (this.desc[i * DESC_WORDS] as number) & FLAG_FROM_CARRY && this.carry ? this.carry : this.chunk;
  }

  /** Packet type (1 CONNECT … 3 PUBLISH … 15 AUTH). */
  type(i: number): number {
    return ((this.desc[i * DESC_WORDS] as number) & 0xff) >> 4;
  }
  qos(i: number): number {
    return ((this.desc[i * DESC_WORDS] as number) >> 1) & 3;
  }
  retain(i: number): boolean {
    return ((this.desc[i * DESC_WORDS] as number) & 1) !== 0;
  }
  dup(i: number): boolean {
    return ((this.desc[i * DESC_WORDS] as number) & 8) !== 0;
  }
  /** The message id, or -1. */
  messageId(i: number): number {
    return this.desc[i * DESC_WORDS + 7] as number;
  }
  isError(i: number): boolean {
    return ((this.desc[i * DESC_WORDS] as number) & FLAG_ERROR) !== 0;
  }
  errorMessage(i: number): string {
    const base = i * DESC_WORDS;
    return parseErrorMessage((this.desc[base] as number) & 0xff, this.desc[base + 1] as number);
  }
  /** PUBLISH topic (decoded once per distinct topic when the codec interns topics). */
  topic(i: number): string {
    return this.topics.topic(this.desc, i * DESC_WORDS, this.source(i));
  }
  /** PUBLISH payload: a view into the chunk (no copy). */
  payload(i: number): Buffer {
    const base = i * DESC_WORDS;
    const off = this.desc[base + 5] as number;
    return this.source(i).subarray(off, off + (this.desc[base + 6] as number));
  }
  /** The whole packet as mqtt-packet would emit it (for the rare packets that need more than the above). */
  packet(i: number): MqttPacketObject {
    if (!this.recsTaken) {
      this.recs = this.codec.takeRecords();
      this.recsTaken = true;
    }
    return materialize(this.desc, i, this.chunk, this.carry, this.recs, this.topics);
  }
}
