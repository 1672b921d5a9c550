import { formatRfc3339 } from '../../core/timestamp';

/** One value read by collectd: `collectd/<host>/<group>/<key>`, at collectd's time. */
export interface CollectdSample {
  readonly group: string;
  readonly key: string;
  readonly value: number;
  readonly time: Date;
}

/** The samples of one collectd read cycle, on their way to one Thin Edge JSON measurement. */
export interface Batch {
  /** collectd time of the first sample: the measurement's `time`. */
  readonly time: Date;
  /** When the batch is published: arrival of its first sample + the window, in epoch ms. */
  readonly due: number;
  /** group → key → value, in arrival order. */
  readonly groups: Map<string, Map<string, number>>;
}

/**
 * Groups samples that collectd took at about the same time (as thin-edge's batcher does, by event
 * time, not arrival): a sample joins an open batch whose time is within `windowMs` of its own and
 * which has no value for its group/key yet, else it opens a new batch. A batch is due `windowMs`
 * after its first sample arrived. Pure: time comes in, the caller owns the timer.
 *
 * Grouping by collectd's time keeps read cycles apart when the broker delivers a backlog at once
 * (the mapper's session is persistent), and a repeated key never overwrites a value.
 */
export class Batcher {
  private open: Batch[] = [];

  constructor(private readonly windowMs: number) {}

  add(sample: CollectdSample, now: Date): void {
    const at = sample.time.getTime();
    let batch = this.open.find((b) => Math.abs(b.time.getTime() - at) <= this.windowMs && !b.groups.get(sample.group)?.has(sample.key));
    if (batch === undefined) {
      batch = { time: sample.time, due: now.getTime() + this.windowMs, groups: new Map() };
      this.open.push(batch);
    }
    let group = batch.groups.get(sample.group);
    if (group === undefined) {
      group = new Map();
      batch.groups.set(sample.group, group);
    }
    group.set(sample.key, sample.value);
  }

  /** Batches due at `now` (all of them when `drain`), in the order they were opened. */
  flush(now: Date, drain: boolean): Batch[] {
    const t = now.getTime();
    const due = drain ? this.open : this.open.filter((b) => b.due <= t);
    this.open = drain ? [] : this.open.filter((b) => b.due > t);
    return due;
  }

  /** When the earliest open batch is due, in epoch ms; undefined when nothing is held. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const b of this.open) if (next === undefined || b.due < next) next = b.due;
    return next;
  }
}

/**
 * `{"time":"<rfc3339>","<group>":{"<key>":<value>,…},…}`. Written by hand to keep arrival order
 * (an object would move integer-like names first) and to treat every name as data.
 */
export function batchPayload(batch: Batch): string {
  const groups = [...batch.groups].map(([group, values]) => {
    const members = [...values].map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`);
    return `${JSON.stringify(group)}:{${members.join(',')}}`;
  });
  return `{${[`"time":${JSON.stringify(formatRfc3339(batch.time))}`, ...groups].join(',')}}`;
}
