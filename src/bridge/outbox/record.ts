import type { QoS } from '../../core/message';
import { crc32 } from './crc32';

/**
 * One outbox record, little-endian:
 *
 *   0  u32  body length B
 *   4  u32  CRC-32 of the body
 *   8  body:  0 u8 format version (1) · 1 u8 flags (bits 0-1 QoS, bit 2 retain) · 2 u48 sequence number
 *             8 u16 topic length T · 10 topic (UTF-8, T bytes) · 10+T payload (the rest)
 *
 * The length comes first so a reader can skip a record whose CRC fails; the CRC covers everything
 * after it, so a torn write (power cut mid-append) is detected, never replayed as a wrong message.
 */
export interface OutboxMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: QoS;
  readonly retain: boolean;
}

export interface OutboxRecord extends OutboxMessage {
  readonly seq: number;
  /** Encoded size in bytes, header included: what the outbox bound counts. */
  readonly size: number;
}

export const HEADER_BYTES = 8;
const BODY_FIXED = 10;
const VERSION = 1;
/** Larger than any MQTT payload we forward; a length beyond it is garbage, not a record. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

export function encodedSize(topic: string, payload: Uint8Array): number {
  return HEADER_BYTES + BODY_FIXED + Buffer.byteLength(topic, 'utf8') + payload.byteLength;
}

export function encodeRecord(seq: number, msg: OutboxMessage): Buffer {
  const topicBytes = Buffer.byteLength(msg.topic, 'utf8');
  if (topicBytes > 0xffff) throw new RangeError(`topic longer than 65535 bytes: ${msg.topic.slice(0, 80)}…`);
  const body = BODY_FIXED + topicBytes + msg.payload.byteLength;
  const buf = Buffer.allocUnsafe(HEADER_BYTES + body);
  buf.writeUInt32LE(body, 0);
  buf.writeUInt8(VERSION, 8);
  buf.writeUInt8((msg.qos & 3) | (msg.retain ? 4 : 0), 9);
  buf.writeUIntLE(seq, 10, 6);
  buf.writeUInt16LE(topicBytes, 16);
  buf.write(msg.topic, 18, topicBytes, 'utf8');
  buf.set(msg.payload, 18 + topicBytes);
  buf.writeUInt32LE(crc32(buf, HEADER_BYTES), 4);
  return buf;
}

/** What is at `offset` of a segment's bytes. */
export type Decoded =
  | { readonly kind: 'record'; readonly record: OutboxRecord }
  /** The bytes end inside this record: read `need` bytes from `offset`, or at the end of a file, a torn tail. */
  | { readonly kind: 'incomplete'; readonly need: number }
  /** A plausible length whose body fails the check: skip `size` bytes and go on. */
  | { readonly kind: 'corrupt'; readonly size: number }
  /** An implausible length: nothing after this point can be trusted to be aligned. */
  | { readonly kind: 'garbage' };

export function decodeAt(buf: Buffer, offset: number): Decoded {
  const available = buf.length - offset;
  if (available < HEADER_BYTES) return { kind: 'incomplete', need: HEADER_BYTES };
  const body = buf.readUInt32LE(offset);
  if (body < BODY_FIXED || body > MAX_BODY_BYTES) return { kind: 'garbage' };
  const size = HEADER_BYTES + body;
  if (available < size) return { kind: 'incomplete', need: size };
  const start = offset + HEADER_BYTES;
  if (crc32(buf, start, start + body) !== buf.readUInt32LE(offset + 4) || buf[start] !== VERSION) return { kind: 'corrupt', size };
  const flags = buf[start + 1] as number;
  const topicBytes = buf.readUInt16LE(start + 8);
  if (BODY_FIXED + topicBytes > body || (flags & 3) === 3) return { kind: 'corrupt', size };
  const topicStart = start + BODY_FIXED;
  return {
    kind: 'record',
    record: {
      seq: buf.readUIntLE(start + 2, 6),
      topic: buf.toString('utf8', topicStart, topicStart + topicBytes),
      // A copy: the read buffer is reused, and a payload may outlive it in MQTT.js's in-flight store.
      payload: Buffer.from(buf.subarray(topicStart + topicBytes, offset + size)),
      qos: (flags & 3) as QoS,
      retain: (flags & 4) !== 0,
      size,
    },
  };
}
