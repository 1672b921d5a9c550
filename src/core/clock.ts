/** Time is injected: converters receive it, runtimes own a Clock. Tests use a fixed one. */
export interface Clock {
  now(): Date;
}

export function fixedClock(at: Date): Clock {
  return { now: () => new Date(at.getTime()) };
}
