import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type FsyncPolicy, Outbox } from '../../../src/bridge/outbox/outbox';
import { encodeRecord } from '../../../src/bridge/outbox/record';
import { systemTimers } from '../../../src/runtime/system-clock';
import { silentLogger } from '../../../src/log/logger';

/** Message i; with `size`, its payload is padded to exactly that many bytes, so every record has the same size. */
const msg = (i: number, size = 0) => ({ topic: 's/us', payload: Buffer.from(`m${i}`.padEnd(size, 'x')), qos: 1 as const, retain: false });
const text = (r: { payload: Uint8Array }): string => Buffer.from(r.payload).toString().replace(/x+$/, '');

let dir: string;
const open = (opts: { maxBytes?: number; segmentBytes?: number; fsync?: FsyncPolicy } = {}): Outbox =>
  Outbox.open({ dir, maxBytes: opts.maxBytes ?? 1 << 20, fsync: opts.fsync ?? 'always', timers: systemTimers, logger: silentLogger(), ...(opts.segmentBytes ? { segmentBytes: opts.segmentBytes } : {}) });

async function appendAll(o: Outbox, from: number, to: number, size = 0): Promise<void> {
  await Promise.all(Array.from({ length: to - from + 1 }, (_, k) => o.append(msg(from + k, size))));
}

async function takeAll(o: Outbox, ack = true): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const batch = await o.take(7);
    if (batch.length === 0) return out;
    for (const r of batch) {
      out.push(text(r));
      if (ack) o.ack(r.seq);
    }
  }
}

const range = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, k) => `m${from + k}`);
const segmentFiles = (): string[] => readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();

describe('outbox', () => {
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-outbox-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('hands records out in order, and once all are acknowledged holds nothing', async () => {
    const o = open({ segmentBytes: 256 });
    await appendAll(o, 1, 50);
    assert.deepEqual(await takeAll(o), range(1, 50));
    assert.equal(o.stats.pendingRecords, 0);
    assert.equal(o.stats.pendingBytes, 0);
    assert.equal(o.stats.delivered, 50);
    assert.ok(segmentFiles().length <= 1, `finished segments are deleted: ${segmentFiles().join(' ')}`);
    await o.close();
  });

  it('recovers unacknowledged records after a restart, in order, and not the acknowledged ones', async () => {
    const o = open({ segmentBytes: 200 });
    await appendAll(o, 1, 30);
    const first = await o.take(10);
    for (const r of first) o.ack(r.seq);
    await o.take(5); // in flight when the process dies: sent again after the restart
    await o.close();
    const again = open({ segmentBytes: 200 });
    assert.equal(again.stats.recoveredRecords, 20);
    assert.deepEqual(await takeAll(again), range(11, 30));
    await again.append(msg(31));
    assert.deepEqual(await takeAll(again), ['m31']);
    await again.close();
  });

  it('survives a crash without close: what append resolved is on disk', async () => {
    const o = open();
    await appendAll(o, 1, 20);
    // no close(): the process is gone; a second instance reads the same directory
    const again = open();
    assert.deepEqual(await takeAll(again), range(1, 20));
    await again.close();
    await o.close();
  });

  it('skips and counts a torn tail and a corrupt record on recovery', async () => {
    const o = open();
    await appendAll(o, 1, 3);
    await o.close();
    const [seg] = segmentFiles();
    const path = join(dir, seg!);
    const corrupt = encodeRecord(4, msg(4));
    corrupt.writeUInt8(corrupt.readUInt8(corrupt.length - 1) ^ 0xff, corrupt.length - 1);
    appendFileSync(path, Buffer.concat([corrupt, encodeRecord(5, msg(5)), encodeRecord(6, msg(6)).subarray(0, 9)]));
    const again = open();
    assert.equal(again.stats.corruptRecords, 1);
    assert.equal(again.stats.tornBytes, 9);
    assert.deepEqual(await takeAll(again), ['m1', 'm2', 'm3', 'm5']);
    await again.append(msg(7));
    assert.deepEqual(await takeAll(again), ['m7']);
    await again.close();
  });

  it('puts unacknowledged records back on rewind, skipping those acknowledged out of order', async () => {
    const o = open();
    await appendAll(o, 1, 6);
    const batch = await o.take(5);
    o.ack(batch[0]!.seq);
    o.ack(batch[2]!.seq);
    assert.equal(o.inFlight, 3);
    o.rewind();
    assert.deepEqual(await takeAll(o), ['m2', 'm4', 'm5', 'm6']);
    assert.equal(o.stats.delivered, 6);
    await o.close();
  });

  it('keeps to the bound by dropping the oldest segments, counted; the newest survive in order', async () => {
    const record = encodeRecord(1, msg(1, 100)).length;
    const o = open({ maxBytes: 20 * record, segmentBytes: 4 * record });
    await appendAll(o, 1, 100, 100);
    const s = o.stats;
    assert.ok(s.pendingBytes <= 20 * record, `pending ${s.pendingBytes} over the bound`);
    assert.equal(s.droppedRecords + s.pendingRecords, 100);
    assert.equal(s.droppedBytes, s.droppedRecords * record);
    assert.ok(s.droppedRecords >= 80 && s.droppedRecords <= 84, `dropped ${s.droppedRecords}`);
    const delivered = await takeAll(o);
    assert.deepEqual(delivered, range(101 - delivered.length, 100));
    await o.close();
    const size = segmentFiles().reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    assert.ok(size <= 20 * record + 4 * record, `disk use ${size}`);
  });

  it('drops nothing below the bound', async () => {
    const record = encodeRecord(1, msg(1, 100)).length;
    const o = open({ maxBytes: 100 * record, segmentBytes: 4 * record });
    await appendAll(o, 1, 100, 100);
    assert.equal(o.stats.droppedRecords, 0);
    assert.deepEqual(await takeAll(o), range(1, 100));
    await o.close();
  });

  it('refuses and counts a record larger than the bound', async () => {
    const o = open({ maxBytes: 1024 });
    await o.append(msg(1, 2000));
    await o.append(msg(2));
    assert.equal(o.stats.droppedRecords, 1);
    assert.deepEqual(await takeAll(o), ['m2']);
    await o.close();
  });

  it('ignores the acknowledgement of a record dropped while in flight', async () => {
    const record = encodeRecord(1, msg(1, 100)).length;
    const o = open({ maxBytes: 8 * record, segmentBytes: 4 * record });
    await appendAll(o, 1, 8, 100);
    const inflight = await o.take(2);
    await appendAll(o, 9, 12, 100); // drops the first segment, with m1 and m2 in flight
    for (const r of inflight) o.ack(r.seq);
    assert.equal(o.stats.delivered, 0);
    assert.equal(o.stats.droppedRecords, 4);
    assert.deepEqual(await takeAll(o), range(5, 12));
    assert.equal(o.stats.pendingRecords, 0);
    await o.close();
  });

  it('hands out a record larger than one read', async () => {
    const o = open({ maxBytes: 1 << 22 });
    await o.append(msg(1, 200_000));
    await o.append(msg(2));
    const [big, small] = await o.take(10);
    assert.equal(big?.payload.byteLength, 200_000);
    assert.equal(text(small!), 'm2');
    await o.close();
  });

  it('with fsync=never still survives a restart of the process', async () => {
    const o = open({ fsync: 'never' });
    await appendAll(o, 1, 10);
    const again = open({ fsync: 'never' });
    assert.deepEqual(await takeAll(again), range(1, 10));
    await o.close();
    await again.close();
  });

  it('resends rather than loses when the acknowledged-position file is garbage', async () => {
    const o = open();
    await appendAll(o, 1, 3);
    await takeAll(o);
    await o.close();
    writeFileSync(join(dir, 'acked'), Buffer.alloc(32, 0xab));
    const again = open();
    assert.deepEqual(await takeAll(again), range(1, 3));
    await again.close();
  });
});
