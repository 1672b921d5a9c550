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
