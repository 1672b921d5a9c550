/**
 * An mqtt-packet-compatible module (exported as package.json `exports["./mqtt-packet"]`):
 * `parser(opts)`, `generate(packet, opts)`, `writeToStream(packet, stream, opts)` and `isNative`.
 *
 * - parser: frames are decoded by the native codec when the addon loads (by the TypeScript reference
 *   otherwise), one call per chunk, and turned into packet objects shaped exactly as mqtt-packet's.
 * - generate / writeToStream: PUBLISH without properties (the hot one) is written in one buffer
 *   by PublishWriter; every other packet goes to mqtt-packet's own writer, so the bytes are
 *   mqtt-packet's by construction.
 *
 * MQTT.js has no option for a custom parser: it calls `mqttPacket.parser(options)` and
 * `mqttPacket.writeToStream(...)` on the mqtt-packet module object at connect/send time.
 * installIntoMqttJs() swaps those two functions on that object (and gives back an undo function),
 * so every client created afterwards parses natively.
 *
 * @example
 * import { installIntoMqttJs, isNative } from './native/mqtt-packet';
 * const uninstall = installIntoMqttJs(); // before mqtt.connect()
 */
import { EventEmitter } from 'node:events';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { type NativeBinding, nativeForProcess } from './binding';
import { type FrameCodec, createFrameCodec } from './frame-codec';
import {
  DESC_WORDS,
  FLAG_ERROR,
  FLAG_FROM_CARRY,
  META_OFFSET,
  META_PENDING,
  META_STATUS,
  VARBYTEINT_MAX,
  parseErrorMessage,
} from './frame-format';
import { type MqttPacketObject, TopicTable, materialize } from './packet-materializer';

/** The parts of mqtt-packet's module this one delegates to. */
interface MqttPacketModule {
  parser(opts?: object): EventEmitter & { parse(buf: Buffer): number };
  generate(packet: object, opts?: object): Buffer;
  writeToStream: ((packet: object, stream: Writable, opts?: object) => boolean) & { cacheNumbers: boolean };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const original = require('mqtt-packet') as MqttPacketModule;
// Captured now: installIntoMqttJs() replaces the properties of that same object later.
const originalGenerate = original.generate;
const originalWriteToStream = original.writeToStream;

export type { MqttPacketObject } from './packet-materializer';

export interface ParserOptions {
  /** As mqtt-packet: 3, 4 or 5; a CONNECT packet switches it. */
  readonly protocolVersion?: number;
  /** Ours (mqtt-packet has none): frames larger than this are an 'error'. */
  readonly maxPacketSize?: number;
  readonly [other: string]: unknown;
}

/** true when parser() decodes natively in this process. */
export const isNative: boolean = nativeForProcess().binding !== undefined;

export class Parser extends EventEmitter {
  private readonly codec: FrameCodec;
  private readonly topics: TopicTable;

  /** `native` undefined: the TypeScript reference codec. */
  constructor(opts: ParserOptions | undefined, native: NativeBinding | undefined) {
    super();
    const version = typeof opts?.protocolVersion === 'number' ? opts.protocolVersion : 0;
    this.codec = createFrameCodec(native, {
      protocolVersion: version,
      maxPacketSize: typeof opts?.maxPacketSize === 'number' ? opts.maxPacketSize : undefined,
      internTopics: true,
    });
    this.topics = new TopicTable();
  }

  get isNative(): boolean {
    return this.codec.isNative;
  }

  /** Emits 'packet' for every complete packet and 'error' for a malformed frame; returns what mqtt-packet's parse() returns. */
  parse(buffer: Buffer | Uint8Array): number {
    const buf = Buffer.isBuffer(buffer) ? buffer : Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    const codec = this.codec;
    const desc = codec.desc;
    const meta = codec.meta;
    let offset = 0;
    for (;;) {
      const n = codec.parse(buf, offset);
      let recs: Int32Array | undefined;
      let recsTaken = false;
      // Only the first frame of a call can come from the carry (a frame split across chunks).
      const carry = n > 0 && (desc[0] as number) & FLAG_FROM_CARRY ? codec.takeCarry() : undefined;
      this.topics.sync(desc, meta, n, buf, carry);
      for (let i = 0; i < n; i++) {
        const base = i * DESC_WORDS;
        const w0 = desc[base] as number;
        if (w0 & FLAG_ERROR) {
          this.emit('error', new Error(parseErrorMessage(w0 & 0xff, desc[base + 1] as number)));
          return meta[META_PENDING] as number;
        }
        if (!recsTaken && (desc[base + 10] as number) > 0) {
          recs = codec.takeRecords();
          recsTaken = true;
        }
        this.emit('packet', materialize(desc, i, buf, carry, recs, this.topics));
      }
      if (meta[META_STATUS] !== 1) break;
      offset = meta[META_OFFSET] as number;
    }
    return meta[META_PENDING] as number;
  }
}

/** mqtt-packet's parser(opts), on the native codec when the addon is loaded. */
export function parser(opts?: ParserOptions): Parser {
  return new Parser(opts, nativeForProcess().binding);
}

// ---- generate / writeToStream ------------------------------------------------------------------

const EMPTY = Buffer.alloc(0);

/**
 * Writes a PUBLISH frame in one buffer. In TypeScript on purpose: the native encodePublish() was
 * measured slower (npm run bench, "serialize PUBLISH"), because passing the topic string and seven
 * arguments across N-API costs more than writing ~100 bytes here.
 */
export class PublishWriter {

  /** The frame of a PUBLISH that mqtt-packet would write the same way, or undefined for its writer to do. */
  encode(packet: Readonly<Record<string, unknown>>, opts: Readonly<Record<string, unknown>> | undefined): Buffer | undefined {
    if (packet['cmd'] !== 'publish') return undefined;
    const version = opts ? opts['protocolVersion'] : 4;
    const qos = (packet['qos'] as number | undefined) || 0;
    if (qos !== 0 && qos !== 1 && qos !== 2) return undefined;
    const topic = packet['topic'];
    if (typeof topic !== 'string') return undefined;
    const payload = (packet['payload'] as unknown) || EMPTY;
    const isBuffer = Buffer.isBuffer(payload);
    if (!isBuffer && typeof payload !== 'string') return undefined;
    const id = packet['messageId'];
    if (qos !== 0 && !(typeof id === 'number' && Number.isInteger(id) && id >= 0 && id <= 0xffff)) return undefined;
    const v5 = version === 5;
    if (v5 && packet['properties'] !== undefined) return undefined;
    const topicLen = Buffer.byteLength(topic);
    if (topicLen > 0xffff) return undefined;
    const payloadLen = isBuffer ? (payload as Buffer).length : Buffer.byteLength(payload as string);
    const length = 2 + topicLen + payloadLen + (qos ? 2 : 0) + (v5 ? 1 : 0);
    if (length > VARBYTEINT_MAX) return undefined;
    const flags = (qos << 1) | (packet['dup'] ? 8 : 0) | (packet['retain'] ? 1 : 0);
    const total = 1 + (length < 128 ? 1 : length < 16384 ? 2 : length < 2097152 ? 3 : 4) + length;
    const out = Buffer.allocUnsafe(total);
    out[0] = 0x30 | flags;
    let pos = 1;
    let rest = length;
    do {
      let digit = rest % 128;
      rest = Math.floor(rest / 128);
      if (rest > 0) digit |= 0x80;
      out[pos++] = digit;
    } while (rest > 0);
    out[pos++] = topicLen >> 8;
    out[pos++] = topicLen & 0xff;
    pos += out.write(topic, pos, 'utf8');
    if (qos) {
      out[pos++] = (id as number) >> 8;
      out[pos++] = (id as number) & 0xff;
    }
    if (v5) out[pos++] = 0;
    if (isBuffer) (payload as Buffer).copy(out, pos);
    else out.write(payload as string, pos, 'utf8');
    return out;
  }
}

const writer = new PublishWriter();
function publishWriter(): PublishWriter {
  return writer;
}

/** mqtt-packet's generate(): the same bytes, and the same Error thrown for an invalid packet. */
export function generate(packet: object, opts?: object): Buffer {
  return publishWriter().encode(packet as Record<string, unknown>, opts as Record<string, unknown> | undefined) ?? originalGenerate(packet, opts);
}

type WriteToStream = ((packet: object, stream: Writable, opts?: object) => boolean) & { cacheNumbers: boolean };

function writeToStreamImpl(packet: object, stream: Writable, opts?: object): boolean {
  const frame = publishWriter().encode(packet as Record<string, unknown>, opts as Record<string, unknown> | undefined);
  return frame ? stream.write(frame) : originalWriteToStream(packet, stream, opts);
}
// MQTT.js sets writeToStream.cacheNumbers = false when `writeCache` is off: forward it.
Object.defineProperty(writeToStreamImpl, 'cacheNumbers', {
  get: () => originalWriteToStream.cacheNumbers,
  set: (value: boolean) => {
    originalWriteToStream.cacheNumbers = value;
  },
});

/** mqtt-packet's writeToStream(): one write for a PUBLISH, mqtt-packet's own writer for the rest. */
export const writeToStream = writeToStreamImpl as WriteToStream;

/**
 * Makes MQTT.js (the copy this project resolves) parse with parser() and write with writeToStream()
 * from here. Affects clients that connect afterwards; returns a function that restores mqtt-packet's.
 */
/** The mqtt-packet instance MQTT.js itself resolves (normally the same as ours). */
function mqttJsPacketModule(): Record<string, unknown> {
  try {
    const mqttDir = dirname(require.resolve('mqtt/package.json'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(require.resolve('mqtt-packet', { paths: [mqttDir] })) as Record<string, unknown>;
  } catch {
    // In the single-executable bundle there is no node_modules to resolve: one shared instance is bundled.
    return original as unknown as Record<string, unknown>;
  }
}

export function installIntoMqttJs(): () => void {
  const target = mqttJsPacketModule();
  const saved = { parser: target['parser'], writeToStream: target['writeToStream'] };
  target['parser'] = parser;
  target['writeToStream'] = writeToStream;
  return () => {
    target['parser'] = saved.parser;
    target['writeToStream'] = saved.writeToStream;
  };
}

export type { MqttPacketObject as Packet };
