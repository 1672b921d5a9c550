import { basename } from 'node:path';
import type { TedgeConfig } from '../config/tedge-config';
import { durationMs } from '../config/value-types';
import { type Message, message } from '../core/message';
import { serviceTopicId, topicFor } from '../core/topics';
import { NO_STEP_STATS, type StepStatsFilter, type StepStatsTotals, formatDuration } from './step-stats';

/** A flow's counts since it started (kept across reloads): inputs taken, messages out, errors raised. */
export interface FlowStats {
  input: number;
  output: number;
  error: number;
  /** The fastest and slowest input through the flow (thin-edge's cpu-min/cpu-max), when timed. */
  minNs?: number;
  maxNs?: number;
}

export const newFlowStats = (): FlowStats => ({ input: 0, output: 0, error: 0 });

/** Where a mapper publishes its flows' statistics and which step functions get records of their own. */
export interface FlowStatsSettings {
  readonly topicRoot: string;
  /** `tedge-mapper-local`, `tedge-mapper-c8y`: the records go to its `status/metrics/<name>` topics. */
  readonly service: string;
  /** flows.stats.interval */
  readonly intervalMs: number;
  /** flows.stats.on_message / on_interval / on_startup */
  readonly steps: StepStatsFilter;
}

/** Whether any step function is counted: otherwise the chains time nothing. */
export const countsSteps = (filter: StepStatsFilter): boolean => filter.onMessage || filter.onInterval || filter.onStartup;

/**
 * thin-edge's statistics of a mapper's flows: `{"type":"flow","input","output","error"}` (with `cpu-min`/`cpu-max`
 * when timed) on `<service>/status/metrics/<flow file>`, and with flows.stats.on_* the step records
 * (`<script>`, `<script>.onInterval`, `<script>.onStartup`).
 */
export function flowStatsMessages(
  where: { readonly topicRoot: string; readonly service: string; readonly steps?: StepStatsFilter },
  flows: Iterable<{ readonly path: string; readonly stats: FlowStats; readonly stepStats: StepStatsTotals }>,
): Message[] {
  const metrics = (name: string, payload: Record<string, unknown>): Message =>
    message(topicFor(serviceTopicId('main', where.service), { kind: 'metrics', name }, where.topicRoot), JSON.stringify(payload), { qos: 1 });
  const out: Message[] = [];
  for (const f of flows) {
    const { input, output, error, minNs, maxNs } = f.stats;
    const timed = minNs !== undefined && maxNs !== undefined ? { 'cpu-min': formatDuration(minNs), 'cpu-max': formatDuration(maxNs) } : {};
    out.push(metrics(basename(f.path), { type: 'flow', input, output, error, ...timed }));
    for (const r of f.stepStats.records(where.steps ?? NO_STEP_STATS)) out.push(metrics(r.name, r.payload));
  }
  return out;
}

/** flows.stats.* for the mapper `service`, as every mapper (local, user, built-in) reads them. */
export function flowStatsSettings(config: TedgeConfig, service: string): FlowStatsSettings {
  return {
    topicRoot: config.string('mqtt.topic_root'),
    service,
    intervalMs: durationMs(config.string('flows.stats.interval')),
    steps: { onMessage: config.boolean('flows.stats.on_message'), onInterval: config.boolean('flows.stats.on_interval'), onStartup: config.boolean('flows.stats.on_startup') },
  };
}
