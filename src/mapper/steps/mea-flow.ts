import { parseJsonObject } from '../../core/json';
import { type Message, payloadText } from '../../core/message';
import { type TimeFormat, addTimestamp } from './add-timestamp';
import { isMosquittoBridgeHealth } from './mosquitto-health';
import { limitPayloadSize } from './payload-size';

export interface MeaFlowOptions {
  /** undefined when `<cloud>.mapper.timestamp` is false: no time added, none reformatted. */
  readonly timestampFormat: TimeFormat | undefined;
  readonly maxPayloadSize: number;
  /** The key named in size errors, e.g. `az.mapper.mqtt.max_payload_size`. */
  readonly maxPayloadSizeKey: string;
}

const encoder = new TextEncoder();

/**
 * The telemetry steps the Azure and AWS mappers share, as thin-edge's builtin `mea` flow:
 * skip-mosquitto-health-status → add-timestamp → limit-payload-size. Returns the payload to send,
 * or undefined for a skipped message.
 *
 * Payload policy, a decision: like thin-edge, the Thin Edge JSON grammar is not checked (the cloud
 * gets the device's JSON as written, plus `time`), and an empty payload (a cleared alarm) is
 * forwarded as is. Unlike thin-edge 2.0, which forwards anything that is not a JSON object
 * untouched, such a payload is a ConversionError on te/errors: every te/ telemetry and health
 * payload is a JSON object, and the cloud cannot tell when garbage was sent.
 */
export function meaFlow(msg: Message, now: Date, opts: MeaFlowOptions): Uint8Array | undefined {
  if (isMosquittoBridgeHealth(msg)) return undefined;
  if (msg.payload.length === 0) return msg.payload;
  const text = payloadText(msg);
  const payload = parseJsonObject(text, 'a JSON object');
  let out = msg.payload;
  if (opts.timestampFormat !== undefined) {
    const stamped = addTimestamp(text, payload, now, opts.timestampFormat);
    if (stamped !== text) out = encoder.encode(stamped);
  }
  return limitPayloadSize(out, opts.maxPayloadSize, opts.maxPayloadSizeKey);
}
