import type { Clock, Timers } from '../core/clock';

export const systemClock: Clock = { now: () => new Date() };

export const systemTimers: Timers = {
  after(ms, callback) {
    const timer = setTimeout(callback, ms);
    return () => clearTimeout(timer);
  },
};
