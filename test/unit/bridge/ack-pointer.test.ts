import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACK_FILE_BYTES, ackSlotOffset, decodeAckFile, encodeAckSlot } from '../../../src/bridge/outbox/ack-pointer';

function file(...slots: Array<{ seq: number; counter: number } | 'torn' | 'empty'>): Buffer {
  const b = Buffer.alloc(ACK_FILE_BYTES);
  slots.forEach((s, i) => {
    if (s === 'empty') return;
    const slot = encodeAckSlot(s === 'torn' ? { seq: 99, counter: 99 } : s);
    if (s === 'torn') slot.writeUInt8(slot.readUInt8(3) ^ 0xff, 3);
    slot.copy(b, i * 16);
  });
  return b;
}

describe('outbox acknowledged position', () => {
  const rows: ReadonlyArray<readonly [string, Buffer, { seq: number; counter: number }]> = [
    ['no file: nothing acknowledged', Buffer.alloc(0), { seq: 0, counter: 0 }],
    ['one slot written', file('empty', { seq: 10, counter: 1 }), { seq: 10, counter: 1 }],
    ['the slot with the higher counter wins', file({ seq: 20, counter: 2 }, { seq: 10, counter: 1 }), { seq: 20, counter: 2 }],
    ['a torn newer slot leaves the older one', file('torn', { seq: 10, counter: 1 }), { seq: 10, counter: 1 }],
    ['both torn: nothing acknowledged (resend, never lose)', file('torn', 'torn'), { seq: 0, counter: 0 }],
    ['a short file (torn extension)', file({ seq: 5, counter: 4 }).subarray(0, 20), { seq: 5, counter: 4 }],
  ];
  for (const [name, bytes, expected] of rows) it(name, () => assert.deepEqual(decodeAckFile(bytes), expected));

  it('alternates slots, so the previous pointer survives a torn write', () => {
    assert.deepEqual([1, 2, 3, 4].map(ackSlotOffset), [16, 0, 16, 0]);
  });
});
