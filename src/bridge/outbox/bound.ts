/**
 * The size bound: pending bytes (records neither delivered nor dropped) stay ≤ maxBytes.
 * When a new record does not fit, whole segments go, oldest first, as few as make it fit
 * (retention by segment, like Kafka's retention.bytes: O(segments) state, no per-record index).
 * A record that cannot fit even in an empty outbox is refused and counted as dropped.
 */
export interface DropPlan {
  /** How many of the oldest segments to drop (the active one included if it is among them). */
  readonly dropSegments: number;
  readonly rejectIncoming: boolean;
}

export function planDrop(segmentLiveBytes: readonly number[], incoming: number, maxBytes: number): DropPlan {
  if (incoming > maxBytes) return { dropSegments: 0, rejectIncoming: true };
  let total = segmentLiveBytes.reduce((a, b) => a + b, 0);
  let dropSegments = 0;
  while (total + incoming > maxBytes && dropSegments < segmentLiveBytes.length) {
    total -= segmentLiveBytes[dropSegments] ?? 0;
    dropSegments++;
  }
  return { dropSegments, rejectIncoming: false };
}

/** Segment size from the bound: small enough that a drop loses a small share, large enough to batch I/O. */
export function segmentBytesFor(maxBytes: number): number {
  return Math.min(16 * 1024 * 1024, Math.max(4096, Math.floor(maxBytes / 64)));
}
