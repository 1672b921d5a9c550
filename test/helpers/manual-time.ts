import type { Clock, Timers } from '../../src/core/clock';

/** A clock and timers that move only when the test says so: timer tests run fast and exact. */
export class ManualTime implements Clock, Timers {
  private at: number;
  private timers: Array<{ due: number; seq: number; callback: () => void }> = [];
  private seq = 0;

  constructor(start: Date) {
    this.at = start.getTime();
  }

  now(): Date {
    return new Date(this.at);
  }

  after(ms: number, callback: () => void): () => void {
    const timer = { due: this.at + ms, seq: this.seq++, callback };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Timers armed and not yet fired. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward, firing due timers in order (timers they arm fire too, if due). */
  advance(ms: number): void {
    const end = this.at + ms;
    for (;;) {
      const next = this.timers.filter((t) => t.due <= end).sort((a, b) => a.due - b.due || a.seq - b.seq)[0];
      if (next === undefined) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.at = Math.max(this.at, next.due);
      next.callback();
    }
    this.at = end;
  }
}
