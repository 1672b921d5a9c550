/** The step functions thin-edge counts one by one when flows.stats.on_message / on_interval / on_startup say so. */
export type StepFunction = 'onMessage' | 'onInterval' | 'onStartup';

/** flows.stats.on_message, on_interval, on_startup. */
export type StepStatsFilter = Readonly<Record<StepFunction, boolean>>;

export const NO_STEP_STATS: StepStatsFilter = { onMessage: false, onInterval: false, onStartup: false };

/** What the calls of one step function added since the last reply: calls in, messages out, errors, time per call. */
export interface StepStatsDelta {
  readonly step: string;
  readonly fn: StepFunction;
  readonly input: number;
  readonly output: number;
  readonly error: number;
  readonly minNs: number;
  readonly maxNs: number;
}

type Totals = { -readonly [K in keyof StepStatsDelta]: StepStatsDelta[K] };

const keyOf = (step: string, fn: StepFunction): string => `${fn}\0${step}`;

function merge(into: Map<string, Totals>, d: StepStatsDelta): void {
  const key = keyOf(d.step, d.fn);
  const t = into.get(key);
  if (t === undefined) {
    into.set(key, { ...d });
    return;
  }
  t.input += d.input;
  t.output += d.output;
  t.error += d.error;
  t.minNs = Math.min(t.minNs, d.minNs);
  t.maxNs = Math.max(t.maxNs, d.maxNs);
}

/**
 * The counts of a flow's step calls in its worker, taken with each reply. A batch is one sandbox entry:
 * its time is shared out over its messages, so cpu-min/cpu-max are per message as thin-edge's are.
 */
export class StepCounters {
  private pending = new Map<string, Totals>();

  record(step: string, fn: StepFunction, calls: number, outputs: number, errors: number, elapsedNs: number): void {
    if (calls === 0) return;
    const perCall = elapsedNs / calls;
    merge(this.pending, { step, fn, input: calls, output: outputs, error: errors, minNs: perCall, maxNs: perCall });
  }

  /** What was recorded since the last take; undefined when nothing was (a reply then carries nothing). */
  take(): StepStatsDelta[] | undefined {
    if (this.pending.size === 0) return undefined;
    const deltas = [...this.pending.values()];
    this.pending = new Map();
    return deltas;
  }
}

/** The totals of a flow's step calls since it started, kept by the mapper across worker restarts and reloads. */
export class StepStatsTotals {
  private readonly totals = new Map<string, Totals>();

  add(deltas: readonly StepStatsDelta[] | undefined): void {
    for (const d of deltas ?? []) merge(this.totals, d);
  }

  /**
   * thin-edge's records: `<script>` (type onMessage), `<script>.onInterval`, `<script>.onStartup`, each
   * `{"type","input","output","error","cpu-min","cpu-max"}`, for the functions the filter enables.
   */
  records(filter: StepStatsFilter): { name: string; payload: Record<string, unknown> }[] {
    return [...this.totals.values()]
      .filter((t) => filter[t.fn])
      .map((t) => ({
        name: t.fn === 'onMessage' ? t.step : `${t.step}.${t.fn}`,
        payload: { type: t.fn, input: t.input, output: t.output, error: t.error, 'cpu-min': formatDuration(t.minNs), 'cpu-max': formatDuration(t.maxNs) },
      }));
  }
}

/** A duration as Rust's Debug prints one (thin-edge's cpu-min/cpu-max): `12ns`, `3.5µs`, `1.25ms`, `2.000001s`. */
export function formatDuration(ns: number): string {
  const whole = Math.max(0, Math.round(ns));
  const [unit, scale] = whole >= 1e9 ? ['s', 1e9] : whole >= 1e6 ? ['ms', 1e6] : whole >= 1e3 ? ['µs', 1e3] : ['ns', 1];
  const integer = Math.floor(whole / scale);
  const fraction = String(whole % scale).padStart(String(scale).length - 1, '0').replace(/0+$/, '');
  return `${integer}${fraction === '' ? '' : `.${fraction}`}${unit}`;
}
