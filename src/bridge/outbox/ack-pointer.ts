import { crc32 } from './crc32';

/**
 * The acknowledged position: every record with a sequence number up to `seq` is done (delivered
 * or dropped). Two 16-byte slots, written alternately with a growing counter, so a torn write
 * leaves the other slot intact; the valid slot with the higher counter wins.
 *
 *   slot: 0 u48 seq · 6 u16 zero · 8 u32 counter · 12 u32 CRC-32 of bytes 0..11
 */
export const ACK_FILE_BYTES = 32;
const SLOT = 16;

export interface AckPointer {
  readonly seq: number;
  readonly counter: number;
}

export function encodeAckSlot(p: AckPointer): Buffer {
  const b = Buffer.alloc(SLOT);
  b.writeUIntLE(p.seq, 0, 6);
  b.writeUInt32LE(p.counter >>> 0, 8);
  b.writeUInt32LE(crc32(b, 0, 12), 12);
  return b;
}

/** Where slot `counter` goes: alternate slots, so the previous pointer survives a torn write. */
export function ackSlotOffset(counter: number): number {
  return (counter % 2) * SLOT;
}

/** The newest valid pointer in the file's bytes; a missing or unreadable file means nothing acknowledged. */
export function decodeAckFile(bytes: Buffer): AckPointer {
  let best: AckPointer = { seq: 0, counter: 0 };
  for (let off = 0; off + SLOT <= bytes.length && off < ACK_FILE_BYTES; off += SLOT) {
    if (crc32(bytes, off, off + 12) !== bytes.readUInt32LE(off + 12)) continue;
    const p = { seq: bytes.readUIntLE(off, 6), counter: bytes.readUInt32LE(off + 8) };
    if (p.counter >= best.counter) best = p;
  }
  return best;
}
