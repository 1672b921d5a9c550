import { decodeAt } from './record';

/** What recovery learns from one segment file's bytes. */
export interface SegmentScan {
  /** Bytes up to the end of the last good record: readers stop here. */
  readonly validEnd: number;
  readonly firstSeq: number | undefined;
  readonly lastSeq: number | undefined;
  /** Good records with a sequence number above the acknowledged one: still to be sent. */
  readonly liveRecords: number;
  readonly liveBytes: number;
  /** Records whose check failed and were skipped. */
  readonly corrupt: number;
  /** Bytes after the last good record that are not a whole record: a torn append, or garbage. */
  readonly tornBytes: number;
}

/**
 * Reads a segment from the start: good records count, corrupt ones (sound length, bad CRC) are
 * skipped and counted, and the scan stops at a torn tail or an implausible length. Pure: bytes in.
 */
export function scanSegment(bytes: Buffer, ackedSeq: number): SegmentScan {
  let offset = 0;
  let validEnd = 0;
  let firstSeq: number | undefined;
  let lastSeq: number | undefined;
  let liveRecords = 0;
  let liveBytes = 0;
  let corrupt = 0;
  while (offset < bytes.length) {
    const d = decodeAt(bytes, offset);
    if (d.kind === 'incomplete' || d.kind === 'garbage') break;
    if (d.kind === 'corrupt') {
      corrupt++;
      offset += d.size;
      validEnd = offset;
      continue;
    }
    const { seq, size } = d.record;
    // Sequence numbers only grow within a segment; one that does not is a stale block, not a record.
    if (lastSeq !== undefined && seq <= lastSeq) {
      corrupt++;
    } else {
      firstSeq ??= seq;
      lastSeq = seq;
      if (seq > ackedSeq) {
        liveRecords++;
        liveBytes += size;
      }
    }
    offset += size;
    validEnd = offset;
  }
  return { validEnd, firstSeq, lastSeq, liveRecords, liveBytes, corrupt, tornBytes: bytes.length - validEnd };
}
