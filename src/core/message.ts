import { ConversionError } from './errors';

export type QoS = 0 | 1 | 2;

/** One MQTT message as every component sees it. Payloads are bytes: MQTT does not promise text. */
export interface Message {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos?: QoS;
  readonly retain?: boolean;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });
const lossyDecoder = new TextDecoder('utf-8');

export function message(topic: string, payload: string | Uint8Array, opts: { qos?: QoS; retain?: boolean } = {}): Message {
  const bytes = typeof payload === 'string' ? encoder.encode(payload) : payload;
  const m: { topic: string; payload: Uint8Array; qos?: QoS; retain?: boolean } = { topic, payload: bytes };
  if (opts.qos !== undefined) m.qos = opts.qos;
  if (opts.retain !== undefined) m.retain = opts.retain;
  return m;
}

/** The payload as text; malformed UTF-8 is a conversion error, not a replacement character. */
export function payloadText(msg: Message): string {
  try {
    return strictDecoder.decode(msg.payload);
  } catch (cause) {
    throw new ConversionError('Invalid UTF-8 payload', { cause });
  }
}

/** The `[topic] payload` text form used by `tedge mqtt sub`, converter tables and fixtures. */
export function formatLine(msg: Message): string {
  return `[${msg.topic}] ${lossyDecoder.decode(msg.payload)}`;
}

/** Inverse of formatLine for one line; the payload may be empty. */
export function parseLine(line: string): Message {
  const match = /^\[([^\]]*)\] ?(.*)$/s.exec(line);
  if (!match) throw new ConversionError(`not a "[topic] payload" line: ${line}`);
  return message(match[1] ?? '', match[2] ?? '');
}
