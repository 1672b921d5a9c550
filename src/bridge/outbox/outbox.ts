import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Timers } from '../../core/clock';
import type { Logger } from '../../log/logger';
import { AckFile } from './ack-file';
import { planDrop, segmentBytesFor } from './bound';
import { type FsyncPolicy, GroupCommit } from './group-commit';
import { type OutboxMessage, type OutboxRecord, decodeAt, encodeRecord, encodedSize } from './record';
import { ACK_FILE, recoverOutbox } from './recovery';
import { Segment, segmentPath } from './segments';

export type { FsyncPolicy } from './group-commit';

export interface OutboxOptions {
  readonly dir: string;
  readonly maxBytes: number;
  readonly fsync: FsyncPolicy;
  readonly timers: Timers;
  readonly logger: Logger;
  readonly segmentBytes?: number;
  /** Delay before a failed write (disk full, I/O error) is tried again. */
  readonly retryMs?: number;
}

/** Counters since the outbox was opened; pending figures are current. */
export interface OutboxStats {
  readonly pendingRecords: number;
  readonly pendingBytes: number;
  readonly maxBytes: number;
  readonly appended: number;
  readonly delivered: number;
  /** Dropped by the bound, oldest first, plus records too large for the bound at all. */
  readonly droppedRecords: number;
  /** Moved out because the cloud refuses them (see `remove`): kept in the dead-letter file, not sent. */
  readonly refusedRecords: number;
  readonly droppedBytes: number;
  /** Pending at start: left by the previous run; those it had in flight may reach the cloud twice. */
  readonly recoveredRecords: number;
  readonly corruptRecords: number;
  readonly tornBytes: number;
  readonly writeErrors: number;
  readonly segments: number;
}

/** A record handed to the sender and not yet acknowledged, in read order. */
interface InFlight {
  readonly seq: number;
  readonly size: number;
  readonly seg: Segment;
  readonly offset: number;
  done: boolean;
}

const READ_CHUNK = 64 * 1024;

/**
 * The durable, size-bounded outbox of one cloud: an append-only log of segment files.
 * `append` resolves once the record is written (and fsynced, per the policy): only then may the
 * local broker get its PUBACK. Appends of one event-loop turn share one write and one fsync
 * (group commit). `take` hands records to the sender in order; `ack` retires them; `rewind`
 * puts the unacknowledged ones back after a cloud disconnect. The acknowledged position is
 * kept in a small file (not fsynced: losing it at a power cut means resending, not losing).
 */
export class Outbox {
  private readonly segments: Segment[];
  private readonly segmentBytes: number;
  private ackSeq: number;
  private nextSeq: number;
  private readonly writer: GroupCommit;
  private readonly ackFile: AckFile;
  private readonly inflight = new Map<number, InFlight>();
  /** Acknowledged out of order before a rewind: skipped when read again. */
  private readonly doneBeforeRewind = new Set<number>();
  private cursor: { seg: Segment; offset: number } | undefined;
  /** Bytes the record at the cursor needs, once a read ended inside it (0: not known). */
  private readNeed = 0;
  /** The last block read: segments are append-only, so its bytes stay valid; the next take starts in it. */
  private readCache: { seg: Segment; offset: number; bytes: Buffer } | undefined;
  private taking = false;
  private listener: () => void = () => {};
  private closed = false;
  private readonly counters = { appended: 0, delivered: 0, refusedRecords: 0, droppedRecords: 0, droppedBytes: 0, recoveredRecords: 0, corruptRecords: 0, tornBytes: 0 };

  private constructor(private readonly opts: OutboxOptions) {
    const r = recoverOutbox(opts.dir);
    this.segments = r.segments;
    this.ackSeq = r.ackSeq;
    this.nextSeq = r.nextSeq;
    this.ackFile = new AckFile(join(opts.dir, ACK_FILE), r.ackCounter, opts.logger);
    this.writer = new GroupCommit({ dir: opts.dir, fsync: opts.fsync, timers: opts.timers, logger: opts.logger, retryMs: opts.retryMs ?? 1000, onCommitted: () => this.listener() });
    this.segmentBytes = opts.segmentBytes ?? segmentBytesFor(opts.maxBytes);
    this.counters.recoveredRecords = r.records;
    this.counters.corruptRecords = r.corrupt;
    this.counters.tornBytes = r.tornBytes;
    const first = this.segments[0];
    if (first) this.cursor = { seg: first, offset: 0 };
  }

  /** Recovers what a previous run left in `dir` (synchronously: it runs once, before any traffic). */
  static open(opts: OutboxOptions): Outbox {
    const outbox = new Outbox(opts);
    const s = outbox.stats;
    if (s.recoveredRecords > 0 || s.corruptRecords > 0 || s.tornBytes > 0) {
      opts.logger.info({ recovered: s.recoveredRecords, bytes: s.pendingBytes, corrupt: s.corruptRecords, tornBytes: s.tornBytes }, 'outbox recovered');
    }
    // The bound may have been lowered since: apply it now rather than on the next append.
    if (s.pendingBytes > opts.maxBytes) outbox.makeRoom(0);
    return outbox;
  }

  get stats(): OutboxStats {
    let pendingRecords = 0;
    let pendingBytes = 0;
    for (const s of this.segments) {
      pendingRecords += s.liveRecords;
      pendingBytes += s.liveBytes;
    }
    return { ...this.counters, writeErrors: this.writer.writeErrors, pendingRecords, pendingBytes, maxBytes: this.opts.maxBytes, segments: this.segments.length };
  }

  /** Cheap (no allocation): the bridge checks it after every message to publish drops at once. */
  get droppedRecords(): number {
    return this.counters.droppedRecords;
  }

  /** Called after each commit that made records readable: the sender's cue to `take`. */
  onAvailable(listener: () => void): void {
    this.listener = listener;
  }

  /** Resolves when the record is on disk per the fsync policy, or was dropped by the bound (counted). */
  append(msg: OutboxMessage): Promise<void> {
    if (this.closed) return Promise.reject(new Error('outbox closed'));
    const size = encodedSize(msg.topic, msg.payload);
    if (!this.makeRoom(size)) return Promise.resolve();
    let seg = this.segments[this.segments.length - 1];
    if (seg === undefined || seg.recovered || seg.size >= this.segmentBytes) seg = this.roll();
    const seq = this.nextSeq++;
    const buf = encodeRecord(seq, msg);
    const committed = this.writer.add(seg, buf);
    seg.size += buf.length;
    seg.lastSeq = seq;
    seg.liveBytes += buf.length;
    seg.liveRecords++;
    this.counters.appended++;
    return committed;
  }

  /**
   * Applies the bound before `incoming` bytes are added: drops the oldest segments if needed.
   * False when the record alone exceeds the bound (it is counted as dropped).
   */
  private makeRoom(incoming: number): boolean {
    const plan = planDrop(
      this.segments.map((s) => s.liveBytes),
      incoming,
      this.opts.maxBytes,
    );
    if (plan.rejectIncoming) {
      this.counters.droppedRecords++;
      this.counters.droppedBytes += incoming;
      this.opts.logger.warn({ bytes: incoming, maxBytes: this.opts.maxBytes }, 'outbox: message larger than the outbox bound, dropped');
      return false;
    }
    if (plan.dropSegments > 0) this.dropOldest(plan.dropSegments);
    return true;
  }

  private dropOldest(count: number): void {
    const dropped = this.segments.splice(0, count);
    let records = 0;
    let bytes = 0;
    for (const seg of dropped) {
      records += seg.liveRecords;
      bytes += seg.liveBytes;
      seg.liveRecords = 0;
      seg.liveBytes = 0;
      this.ackSeq = Math.max(this.ackSeq, seg.lastSeq);
      this.deleteSegment(seg);
    }
    // Records of dropped segments that were in flight are done; their acknowledgements are ignored.
    for (const e of this.inflight.values()) if (e.seg.deleted) e.done = true;
    for (const seq of this.doneBeforeRewind) if (seq <= this.ackSeq) this.doneBeforeRewind.delete(seq);
    this.counters.droppedRecords += records;
    this.counters.droppedBytes += bytes;
    this.opts.logger.warn(
      { droppedRecords: records, droppedBytes: bytes, totalDropped: this.counters.droppedRecords, maxBytes: this.opts.maxBytes },
      'outbox full: dropped the oldest messages',
    );
    this.popDone();
    this.fixCursor();
    this.saveAckSeq();
  }

  /** Starts a new segment for appends; the previous one is sealed. */
  private roll(): Segment {
    const seg = new Segment(this.nextSeq, segmentPath(this.opts.dir, this.nextSeq), false);
    this.segments.push(seg);
    this.cursor ??= { seg, offset: 0 };
    this.deleteFinished();
    return seg;
  }

  /** Up to `max` records not yet handed out, oldest first; [] when none is readable yet. One call at a time. */
  async take(max: number): Promise<OutboxRecord[]> {
    if (this.taking) throw new Error('Outbox.take is not reentrant');
    this.taking = true;
    try {
      return await this.read(max);
    } finally {
      this.taking = false;
    }
  }

  private async read(max: number): Promise<OutboxRecord[]> {
    const out: OutboxRecord[] = [];
    while (out.length < max && !this.closed) {
      this.fixCursor();
      const cur = this.cursor;
      if (cur === undefined) break;
      const { seg, offset } = cur;
      if (offset >= seg.durable) {
        const next = this.segments[this.segments.indexOf(seg) + 1];
        if (next === undefined || seg.durable < seg.size) break;
        this.cursor = { seg: next, offset: 0 };
        this.deleteFinished();
        continue;
      }
      const { bytes, fromFile } = await this.readAt(seg, offset);
      if (seg.deleted || this.cursor !== cur) continue; // dropped or rewound meanwhile
      let pos = 0;
      while (pos < bytes.length && out.length < max) {
        const d = decodeAt(bytes, pos);
        if (d.kind === 'incomplete') {
          if (pos === 0) this.readNeed = d.need; // cut at the end of the block: read it whole next time
          break;
        }
        if (d.kind === 'garbage') {
          pos = seg.durable - offset; // only a recovered torn tail; recovery already counted it
          break;
        }
        if (d.kind === 'corrupt') {
          pos += d.size; // counted by recovery
          continue;
        }
        const r = d.record;
        const at = offset + pos;
        pos += r.size;
        if (r.seq <= this.ackSeq) continue;
        const done = this.doneBeforeRewind.delete(r.seq);
        this.inflight.set(r.seq, { seq: r.seq, size: r.size, seg, offset: at, done });
        if (!done) out.push(r);
      }
      if (pos === 0) {
        if (fromFile && offset + bytes.length >= seg.durable) break; // nothing whole on disk yet: wait for the writer
        continue; // the block ended inside the record: the next round reads it whole
      }
      this.readNeed = 0;
      this.cursor = { seg, offset: offset + pos };
      this.popDone();
    }
    return out;
  }

  /** Bytes of `seg` from `offset` up to what is durable: from the last block read when it covers `offset`. */
  private async readAt(seg: Segment, offset: number): Promise<{ bytes: Buffer; fromFile: boolean }> {
    const c = this.readCache;
    if (c !== undefined && c.seg === seg && offset >= c.offset && offset < c.offset + c.bytes.length) {
      const rest = c.bytes.subarray(offset - c.offset);
      if (rest.length >= this.readNeed) return { bytes: rest, fromFile: false };
    }
    const len = Math.min(seg.durable - offset, Math.max(READ_CHUNK, this.readNeed));
    const buf = Buffer.allocUnsafe(len);
    const { bytesRead } = await (await seg.file()).read(buf, 0, len, offset);
    const bytes = buf.subarray(0, bytesRead);
    this.readCache = { seg, offset, bytes };
    return { bytes, fromFile: true };
  }

  /** The cloud acknowledged (or, for QoS 0, was handed) record `seq`. Unknown or stale seqs are ignored. */
  ack(seq: number): void {
    if (this.retire(seq)) this.counters.delivered++;
  }

  /** Record `seq`, handed out, will never be accepted by the cloud: retired without delivery, counted. */
  remove(seq: number): void {
    if (this.retire(seq)) this.counters.refusedRecords++;
  }

  private retire(seq: number): boolean {
    const e = this.inflight.get(seq);
    if (e === undefined || e.done) return false;
    e.done = true;
    e.seg.liveBytes -= e.size;
    e.seg.liveRecords--;
    this.popDone();
    return true;
  }

  /** After a cloud disconnect: records handed out but not acknowledged will be taken again, in order. */
  rewind(): void {
    const first = this.inflight.values().next().value;
    if (first === undefined) return;
    for (const e of this.inflight.values()) if (e.done) this.doneBeforeRewind.add(e.seq);
    this.inflight.clear();
    this.cursor = first.seg.deleted ? undefined : { seg: first.seg, offset: first.offset };
    this.fixCursor();
  }

  /** Records handed out and not yet acknowledged. */
  get inFlight(): number {
    let n = 0;
    for (const e of this.inflight.values()) if (!e.done) n++;
    return n;
  }

  /** Retires acknowledged records from the front of the in-flight list: the acknowledged position moves. */
  private popDone(): void {
    const before = this.ackSeq;
    for (const [seq, e] of this.inflight) {
      if (!e.done) break;
      this.inflight.delete(seq);
      if (seq > this.ackSeq) this.ackSeq = seq;
    }
    if (this.ackSeq !== before) {
      this.deleteFinished();
      this.saveAckSeq();
    }
  }

  /** Deletes sealed segments whose records are all done. */
  private deleteFinished(): void {
    for (;;) {
      const seg = this.segments[0];
      const next = this.segments[1];
      if (seg === undefined || next === undefined || seg.lastSeq > this.ackSeq || seg.durable < seg.size) return;
      this.segments.shift();
      this.deleteSegment(seg);
      if (this.cursor?.seg === seg) this.cursor = { seg: next, offset: 0 };
    }
  }

  private deleteSegment(seg: Segment): void {
    seg.deleted = true;
    try {
      if (seg.opened || seg.recovered) unlinkSync(seg.path);
    } catch {
      // already gone (never written)
    }
    void seg.close().catch(() => {});
  }

  private fixCursor(): void {
    if (this.cursor === undefined || this.cursor.seg.deleted) {
      const first = this.segments[0];
      this.cursor = first ? { seg: first, offset: 0 } : undefined;
    }
  }

  private saveAckSeq(): void {
    this.ackFile.save(this.ackSeq);
  }

  /** Writes what is batched and the acknowledged position, then closes the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.writer.close();
    this.closed = true;
    await this.ackFile.close(this.opts.fsync === 'always');
    await Promise.all(this.segments.map((s) => s.close().catch(() => {})));
  }
}
