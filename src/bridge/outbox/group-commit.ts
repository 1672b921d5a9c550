import type { Timers } from '../../core/clock';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../log/logger';
import { syncDir } from './recovery';
import type { Segment } from './segments';

/**
 * `always`: fdatasync before the local broker gets its PUBACK (survives a power cut).
 * `never`: written to the OS before the PUBACK, not synced (survives kill -9, not a power cut).
 */
export type FsyncPolicy = 'always' | 'never';

interface Chunk {
  readonly seg: Segment;
  readonly position: number;
  readonly bufs: Buffer[];
  bytes: number;
}

interface Batch {
  readonly chunks: Chunk[];
  readonly done: Promise<void>;
  readonly resolve: () => void;
}

/**
 * Group commit: records added during one event-loop turn (everything MQTT.js parsed from one socket
 * read) are written together and fsynced once; while that runs, the next batch gathers. A batch
 * resolves when its bytes are durable per the policy, and only then `durable` of its segments moves.
 */
export class GroupCommit {
  private batch: Batch | undefined;
  private flushing: Promise<void> | undefined;
  private closing = false;
  writeErrors = 0;

  constructor(
    private readonly opts: {
      readonly dir: string;
      readonly fsync: FsyncPolicy;
      readonly timers: Timers;
      readonly logger: Logger;
      readonly retryMs: number;
      /** After each batch is durable: readers may go on. */
      readonly onCommitted: () => void;
    },
  ) {}

  /** Queues `buf` at the end of `seg` (whose `size` the caller has not advanced yet). */
  add(seg: Segment, buf: Buffer): Promise<void> {
    const batch = (this.batch ??= newBatch());
    let chunk = batch.chunks[batch.chunks.length - 1];
    if (chunk?.seg !== seg) {
      chunk = { seg, position: seg.size, bufs: [], bytes: 0 };
      batch.chunks.push(chunk);
    }
    chunk.bufs.push(buf);
    chunk.bytes += buf.length;
    // setImmediate, not a microtask: every message of the same socket read joins this batch.
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flushLoop());
    return batch.done;
  }

  /** Waits for what is queued; a write that keeps failing is abandoned (never acknowledged, so not lost). */
  async close(): Promise<void> {
    this.closing = true;
    while (this.flushing) await this.flushing;
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.batch) {
        const batch = this.batch;
        this.batch = undefined;
        if (!(await this.writeWithRetry(batch))) return;
        batch.resolve();
        this.opts.onCommitted();
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private async writeWithRetry(batch: Batch): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.write(batch);
        if (attempt > 0) this.opts.logger.info('outbox: writing works again');
        return true;
      } catch (err) {
        // A segment dropped by the bound while we wrote it: its file is gone, the rest is retried at once.
        if (attempt === 0 && batch.chunks.some((c) => c.seg.deleted)) continue;
        if (this.closing) return false;
        // Not acknowledged, so the local broker keeps these messages; positional writes make a retry safe.
        this.writeErrors++;
        if (attempt === 0) this.opts.logger.error({ err: errorMessage(err), dir: this.opts.dir }, 'outbox: write failed; retrying');
        await new Promise<void>((resolve) => this.opts.timers.after(this.opts.retryMs, resolve));
      }
    }
  }

  private async write(batch: Batch): Promise<void> {
    const touched = new Set<Segment>();
    let created = false;
    for (const chunk of batch.chunks) {
      if (chunk.seg.deleted) continue;
      created ||= !chunk.seg.opened;
      const fh = await chunk.seg.file();
      // A disk that fills up mid-write gives a short write, not an error: what did not fit is not stored,
      // so nothing of the batch is acknowledged, and the retry writes it all again at the same position.
      const { bytesWritten } = await fh.writev(chunk.bufs, chunk.position);
      if (bytesWritten < chunk.bytes) throw new Error(`short write: ${bytesWritten} of ${chunk.bytes} bytes (disk full?)`);
      touched.add(chunk.seg);
    }
    if (this.opts.fsync === 'always') {
      for (const seg of touched) if (!seg.deleted) await (await seg.file()).datasync();
      // A new segment file must itself survive a power cut.
      if (created) syncDir(this.opts.dir);
    }
    for (const chunk of batch.chunks) chunk.seg.durable = Math.max(chunk.seg.durable, chunk.position + chunk.bytes);
  }
}

function newBatch(): Batch {
  let resolve: () => void = () => {};
  const done = new Promise<void>((r) => (resolve = r));
  return { chunks: [], done, resolve };
}
