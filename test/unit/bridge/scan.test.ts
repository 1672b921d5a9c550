import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type SegmentScan, scanSegment } from '../../../src/bridge/outbox/scan';
import { encodeRecord } from '../../../src/bridge/outbox/record';

const rec = (seq: number, payload = 'p'): Buffer => encodeRecord(seq, { topic: 's/us', payload: Buffer.from(payload), qos: 1, retain: false });
const R = rec(1).length; // every record below has the same size
const corrupt = (b: Buffer): Buffer => {
  const c = Buffer.from(b);
  c.writeUInt8(c.readUInt8(c.length - 1) ^ 0xff, c.length - 1);
  return c;
};

/** A segment's bytes, the acknowledged sequence number, and what recovery must find. */
const rows: ReadonlyArray<{ name: string; bytes: Buffer; acked: number; expect: SegmentScan }> = [
  { name: 'an empty file', bytes: Buffer.alloc(0), acked: 0, expect: { validEnd: 0, firstSeq: undefined, lastSeq: undefined, liveRecords: 0, liveBytes: 0, corrupt: 0, tornBytes: 0 } },
  { name: 'three good records', bytes: Buffer.concat([rec(1), rec(2), rec(3)]), acked: 0, expect: { validEnd: 3 * R, firstSeq: 1, lastSeq: 3, liveRecords: 3, liveBytes: 3 * R, corrupt: 0, tornBytes: 0 } },
  { name: 'acknowledged records are not live', bytes: Buffer.concat([rec(1), rec(2), rec(3)]), acked: 2, expect: { validEnd: 3 * R, firstSeq: 1, lastSeq: 3, liveRecords: 1, liveBytes: R, corrupt: 0, tornBytes: 0 } },
  { name: 'a torn tail (append cut by a crash)', bytes: Buffer.concat([rec(1), rec(2), rec(3).subarray(0, 10)]), acked: 0, expect: { validEnd: 2 * R, firstSeq: 1, lastSeq: 2, liveRecords: 2, liveBytes: 2 * R, corrupt: 0, tornBytes: 10 } },
  { name: 'a torn header', bytes: Buffer.concat([rec(1), rec(2).subarray(0, 3)]), acked: 0, expect: { validEnd: R, firstSeq: 1, lastSeq: 1, liveRecords: 1, liveBytes: R, corrupt: 0, tornBytes: 3 } },
  { name: 'a corrupt record in the middle is skipped', bytes: Buffer.concat([rec(1), corrupt(rec(2)), rec(3)]), acked: 0, expect: { validEnd: 3 * R, firstSeq: 1, lastSeq: 3, liveRecords: 2, liveBytes: 2 * R, corrupt: 1, tornBytes: 0 } },
  { name: 'a corrupt last record', bytes: Buffer.concat([rec(1), corrupt(rec(2))]), acked: 0, expect: { validEnd: 2 * R, firstSeq: 1, lastSeq: 1, liveRecords: 1, liveBytes: R, corrupt: 1, tornBytes: 0 } },
  { name: 'zeroes after the records (preallocated block)', bytes: Buffer.concat([rec(1), Buffer.alloc(100)]), acked: 0, expect: { validEnd: R, firstSeq: 1, lastSeq: 1, liveRecords: 1, liveBytes: R, corrupt: 0, tornBytes: 100 } },
  { name: 'a stale record with an older sequence number', bytes: Buffer.concat([rec(5), rec(3), rec(6)]), acked: 0, expect: { validEnd: 3 * R, firstSeq: 5, lastSeq: 6, liveRecords: 2, liveBytes: 2 * R, corrupt: 1, tornBytes: 0 } },
];

describe('outbox recovery scan of one segment', () => {
  for (const row of rows) it(row.name, () => assert.deepEqual(scanSegment(row.bytes, row.acked), row.expect));
});
