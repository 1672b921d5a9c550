/** Time is injected: converters receive it, runtimes own a Clock. Tests use a fixed one. */
export interface Clock {
  now(): Date;
}

export function fixedClock(at: Date): Clock {
  return { now: () => new Date(at.getTime()) };
}

/**
 * One-shot timers, injected like the clock so that batching and retries are tested with a
 * manual clock, fast and exact. `after` returns the function that cancels the timer.
 */
export interface Timers {
  after(ms: number, callback: () => void): () => void;
}
