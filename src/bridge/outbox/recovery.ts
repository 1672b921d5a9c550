import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, unlinkSync, fsyncSync } from 'node:fs';
import { join } from 'node:path';
import { decodeAckFile } from './ack-pointer';
import { scanSegment } from './scan';
import { Segment, segmentSeq } from './segments';

export const ACK_FILE = 'acked';

export interface Recovered {
  readonly ackSeq: number;
  readonly ackCounter: number;
  /** Segments still holding records to send, oldest first. */
  readonly segments: Segment[];
  readonly nextSeq: number;
  readonly records: number;
  readonly bytes: number;
  readonly corrupt: number;
  readonly tornBytes: number;
}

/**
 * Reads what a previous run left: the acknowledged position, then each segment in order. Segments
 * with nothing left to send are deleted; torn tails and corrupt records are counted and skipped.
 * Runs once at start, synchronously: nothing else may touch the directory before it is done.
 */
export function recoverOutbox(dir: string): Recovered {
  mkdirSync(dir, { recursive: true });
  let ack = { seq: 0, counter: 0 };
  try {
    ack = decodeAckFile(readFileSync(join(dir, ACK_FILE)));
  } catch {
    // no pointer yet: nothing was acknowledged
  }
  const names = readdirSync(dir)
    .map((name) => ({ name, seq: segmentSeq(name) }))
    .filter((f): f is { name: string; seq: number } => f.seq !== undefined)
    .sort((a, b) => a.seq - b.seq);
  const segments: Segment[] = [];
  let maxSeq = ack.seq;
  let records = 0;
  let bytes = 0;
  let corrupt = 0;
  let tornBytes = 0;
  for (const { name, seq } of names) {
    const path = join(dir, name);
    const scan = scanSegment(readFileSync(path), ack.seq);
    corrupt += scan.corrupt;
    tornBytes += scan.tornBytes;
    maxSeq = Math.max(maxSeq, scan.lastSeq ?? 0);
    if (scan.liveRecords === 0) {
      unlinkSync(path);
      continue;
    }
    const seg = new Segment(seq, path, true, scan.validEnd);
    seg.lastSeq = scan.lastSeq ?? seq - 1;
    seg.liveRecords = scan.liveRecords;
    seg.liveBytes = scan.liveBytes;
    segments.push(seg);
    records += scan.liveRecords;
    bytes += scan.liveBytes;
  }
  if (names.length > segments.length) syncDir(dir);
  return { ackSeq: ack.seq, ackCounter: ack.counter, segments, nextSeq: maxSeq + 1, records, bytes, corrupt, tornBytes };
}

/** Makes creations and deletions of files in `dir` durable (a new segment must survive a power cut). */
export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
