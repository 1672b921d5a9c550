import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * One segment file of the outbox: records appended in sequence order, never rewritten. Named by
 * the sequence number of its first record, so a directory listing sorts into replay order.
 */
export class Segment {
  /** Sequence number of the last record assigned here (firstSeq - 1 while empty). */
  lastSeq: number;
  /** Bytes assigned: written, or waiting in the group-commit batch. */
  size: number;
  /** Bytes written (and fsynced, per the policy): readers stop here. */
  durable: number;
  /** Records (and their bytes) neither delivered nor dropped: what the bound counts. */
  liveRecords = 0;
  liveBytes = 0;
  deleted = false;
  private handle: Promise<FileHandle> | undefined;

  constructor(
    readonly firstSeq: number,
    readonly path: string,
    /** Found at start: only read. A new segment is created by its first write. */
    readonly recovered: boolean,
    size = 0,
  ) {
    this.lastSeq = firstSeq - 1;
    this.size = size;
    this.durable = size;
  }

  /** True once the file exists (a new segment's file is created by its first write). */
  get opened(): boolean {
    return this.handle !== undefined;
  }

  file(): Promise<FileHandle> {
    this.handle ??= open(this.path, this.recovered ? 'r' : 'w+');
    return this.handle;
  }

  /** FileHandle.close waits for the reads and writes in flight, so no fd number is reused under them. */
  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    if (h) await (await h).close();
  }
}

const NAME = /^(\d{16})\.seg$/;

export function segmentPath(dir: string, firstSeq: number): string {
  return join(dir, `${String(firstSeq).padStart(16, '0')}.seg`);
}

/** The first sequence number a segment file name stands for; undefined for other files. */
export function segmentSeq(name: string): number | undefined {
  const m = NAME.exec(name);
  return m ? Number(m[1]) : undefined;
}
