import type { QoS } from '../core/message';

/**
 * A message inside a flow, as it crosses between the mapper and a flow's worker (structured clone):
 * `time` in milliseconds since the epoch, `payload` as bytes. MQTT metadata only when set.
 */
export interface FlowMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly time: number;
  readonly qos?: QoS;
  readonly retain?: boolean;
}

/** The failure of one step on one input: reported on the flow's errors output, the flow goes on. */
export interface StepFailure {
  readonly step: string;
  readonly topic: string;
  readonly error: string;
}

/**
 * Messages as a few flat arrays for the thread hop: structured clone copies one big buffer much faster
 * than a thousand small Uint8Arrays. `unpackMessages` gives views into the buffer, not copies.
 */
export interface PackedMessages {
  readonly topics: string[];
  readonly times: Float64Array;
  /** qos + 1 (0: not set), and 1 for retained. */
  readonly flags: Uint8Array;
  readonly ends: Uint32Array;
  readonly bytes: Uint8Array;
}

export function packMessages(messages: readonly FlowMessage[]): PackedMessages {
  const n = messages.length;
  const times = new Float64Array(n);
  const flags = new Uint8Array(n * 2);
  const ends = new Uint32Array(n);
  const topics: string[] = new Array<string>(n);
  let size = 0;
  for (let i = 0; i < n; i++) size += (messages[i] as FlowMessage).payload.length;
  const bytes = new Uint8Array(size);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const m = messages[i] as FlowMessage;
    topics[i] = m.topic;
    times[i] = m.time;
    flags[2 * i] = m.qos === undefined ? 0 : m.qos + 1;
    flags[2 * i + 1] = m.retain ? 1 : 0;
    bytes.set(m.payload, at);
    at += m.payload.length;
    ends[i] = at;
  }
  return { topics, times, flags, ends, bytes };
}

/** The QoS of the i-th packed message, when it was set. */
export function packedQos(p: PackedMessages, i: number): QoS | undefined {
  const q = p.flags[2 * i] as number;
  return q > 0 ? ((q - 1) as QoS) : undefined;
}

export function unpackMessages(p: PackedMessages): FlowMessage[] {
  const out: FlowMessage[] = new Array<FlowMessage>(p.topics.length);
  let start = 0;
  for (let i = 0; i < p.topics.length; i++) {
    const end = p.ends[i] as number;
    const q = p.flags[2 * i] as number;
    const m: { topic: string; payload: Uint8Array; time: number; qos?: QoS; retain?: boolean } = { topic: p.topics[i] as string, payload: p.bytes.subarray(start, end), time: p.times[i] as number };
    if (q > 0) m.qos = (q - 1) as QoS;
    if (p.flags[2 * i + 1] === 1) m.retain = true;
    out[i] = m;
    start = end;
  }
  return out;
}
