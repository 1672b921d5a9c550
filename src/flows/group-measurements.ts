import { isJsonObject, parseJson } from '../core/json';
import { fromUnixSeconds, parseRfc3339 } from '../core/timestamp';
import type { FlowMessage } from './flow-message';

interface Batch {
  /** When the batch was opened (message processing time): it is closed on interval once older than the window. */
  readonly opened: number;
  /** Event time of its first measurement, given to the grouped message as unix seconds. */
  readonly from: number;
  readonly payload: Record<string, unknown>;
}

const encoder = new TextEncoder();

/** The event time of a JSON payload (`time`, unix or RFC 3339), else its processing time. */
function eventTime(json: Record<string, unknown>, fallback: number): number {
  const t = json['time'];
  if (typeof t === 'number') return new Date(fromUnixSeconds(t)).getTime();
  if (typeof t === 'string') {
    const ms = new Date(parseRfc3339(t)).getTime();
    if (!Number.isNaN(ms)) return ms;
  }
  return fallback;
}

function conflicts(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return Object.keys(b).some((k) => k !== 'time' && k in a && JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

function close(topic: string, batch: Batch): FlowMessage {
  return { topic, payload: encoder.encode(JSON.stringify({ ...batch.payload, time: batch.from / 1000 })), time: batch.opened };
}

/**
 * thin-edge's builtin `group-measurements`: measurements of one topic whose event times fall within
 * `time_window` of the batch's first are merged into one JSON object; a batch closes when a later
 * measurement falls outside its window or conflicts with it, or on interval once the window has passed,
 * or on the final interval whatever its age (the flow ends: a held batch would be lost).
 * What is not a JSON object passes unchanged.
 */
export function groupMeasurements(windowMs: number): ((msg: FlowMessage) => FlowMessage[]) & { onInterval: (now: number, final?: boolean) => FlowMessage[] } {
  const batches = new Map<string, Batch>();
  const transform = (msg: FlowMessage): FlowMessage[] => {
    let json: ReturnType<typeof parseJson>;
    try {
      json = parseJson(new TextDecoder('utf-8', { fatal: true }).decode(msg.payload));
    } catch {
      return [msg];
    }
    if (!isJsonObject(json)) return [msg];
    const at = eventTime(json, msg.time);
    const { time: _drop, ...values } = json;
    const current = batches.get(msg.topic);
    if (current !== undefined && at < current.from + windowMs && at >= current.from && !conflicts(current.payload, values)) {
      Object.assign(current.payload, values);
      return [];
    }
    batches.set(msg.topic, { opened: msg.time, from: at, payload: { ...values } });
    return current === undefined ? [] : [close(msg.topic, current)];
  };
  transform.onInterval = (now: number, final = false): FlowMessage[] => {
    const out: FlowMessage[] = [];
    for (const [topic, batch] of batches) {
      if (final || batch.opened + windowMs < now) {
        batches.delete(topic);
        out.push(close(topic, batch));
      }
    }
    return out;
  };
  return transform;
}
