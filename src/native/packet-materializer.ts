/**
 * Descriptors (frame-format.ts) → packet objects shaped exactly as mqtt-packet 9's parser emits them:
 * the same Packet class, the same keys in the same order, the same values (Buffers for payloads,
 * passwords and binary properties, strings decoded with toString('utf8')), and mqtt-packet's rules
 * for repeated properties. Used by the mqtt-packet-compatible parser on top of either codec.
 */
import {
  DESC_WORDS,
  FLAG_FROM_CARRY,
  FLAG_TOPIC_NEW,
  META_TOPICS_RESET,
  PACKET_TYPES,
  PROPERTIES,
  PropKind,
  RecordTag,
} from './frame-format';

/** The packet objects of the compatible parser (mqtt-packet's own class, so prototypes match too). */
export interface MqttPacketObject {
  cmd: string | null;
  retain: boolean;
  qos: number;
  dup: boolean;
  length: number;
  topic: string | null;
  payload: Buffer | null;
  [field: string]: unknown;
}

type PropertyBag = Record<string, unknown>;

// mqtt-packet/packet.js: `class Packet { constructor () { this.cmd = null; ... } }`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Packet = require('mqtt-packet/packet') as new () => MqttPacketObject;

/** Topic strings by native topic id, kept in step with META_TOPICS_RESET and FLAG_TOPIC_NEW. */
export class TopicTable {
  private readonly topics: string[] = [];

  /**
   * Applies the interning news of one parse() call (`meta` and its `count` descriptors). Must see
   * every call, whether or not its topics are read.
   */
  sync(desc: Int32Array, meta: Int32Array, count: number, chunk: Buffer, carry: Buffer | undefined): void {
    if (meta[META_TOPICS_RESET] === 1) this.topics.length = 0;
    for (let i = 0; i < count; i++) {
      const base = i * DESC_WORDS;
      const w0 = desc[base] as number;
      if ((w0 & FLAG_TOPIC_NEW) === 0) continue;
      const src = w0 & FLAG_FROM_CARRY && carry ? carry : chunk;
      const off = desc[base + 3] as number;
      this.topics[desc[base + 8] as number] = src.toString('utf8', off, off + (desc[base + 4] as number));
    }
  }

  /** The topic of the PUBLISH at `base`: from the table when interned, else decoded. */
  topic(desc: Int32Array, base: number, src: Buffer): string {
    const id = desc[base + 8] as number;
    if (id >= 0) return this.topics[id] as string;
    const off = desc[base + 3] as number;
    return src.toString('utf8', off, off + (desc[base + 4] as number));
  }
}

function str(src: Buffer, off: number, len: number): string | null {
  return len < 0 ? null : src.toString('utf8', off, off + len);
}

function buf(src: Buffer, off: number, len: number): Buffer | null {
  return len < 0 ? null : src.subarray(off, off + len);
}

/**
 * Reads the properties starting at record `r` (a PropsBegin) into a bag, with mqtt-packet's
 * _parseProperties rules (a truthy earlier value turns into an array). Returns the record after PropsEnd.
 */
function readProperties(recs: Int32Array, r: number, end: number, src: Buffer, out: PropertyBag): number {
  for (r += 3; r < end; r += 3) {
    const w = recs[r] as number;
    const tag = w & 0xff;
    if (tag === RecordTag.PropsEnd) return r + 3;
    const id = w >> 8;
    const a = recs[r + 1] as number;
    const b = recs[r + 2] as number;
    if (tag === RecordTag.PropPairName) {
      const name = str(src, a, b);
      r += 3;
      const value = str(src, recs[r + 1] as number, recs[r + 2] as number);
      let bag = out['userProperties'] as Record<string, unknown> | undefined;
      if (!bag) {
        bag = Object.create(null) as Record<string, unknown>;
        out['userProperties'] = bag;
      }
      const key = String(name);
      const current = bag[key];
      if (current) {
        if (Array.isArray(current)) current.push(value);
        else bag[key] = [current, value];
      } else {
        bag[key] = value;
      }
      continue;
    }
    const prop = PROPERTIES.get(id);
    if (!prop) continue;
    const [name, kind] = prop;
    let value: unknown;
    if (tag === RecordTag.PropString) value = str(src, a, b);
    else if (tag === RecordTag.PropBinary) value = buf(src, a, b);
    else if (kind === PropKind.Bool) value = a !== 0;
    else value = kind === PropKind.Int32 ? a >>> 0 : a;
    const current = out[name];
    if (current) {
      if (Array.isArray(current)) current.push(value);
      else out[name] = [current, value];
    } else {
      out[name] = value;
    }
  }
  return r;
}

/**
 * The packet of descriptor `i`. `chunk` is the buffer given to parse(), `carry` the one from
 * takeCarry() and `recs` the one from takeRecords() of the same call.
 */
export function materialize(
  desc: Int32Array,
  i: number,
  chunk: Buffer,
  carry: Buffer | undefined,
  recs: Int32Array | undefined,
  topics: TopicTable | undefined,
): MqttPacketObject {
  const base = i * DESC_WORDS;
  const w0 = desc[base] as number;
  const src = w0 & FLAG_FROM_CARRY && carry ? carry : chunk;
  const first = w0 & 0xff;
  const type = first >> 4;
  const qos = (first >> 1) & 3;
  const p = new Packet();
  p.cmd = PACKET_TYPES[type] as string;
  p.retain = (first & 1) !== 0;
  p.qos = qos;
  p.dup = (first & 8) !== 0;
  p.length = desc[base + 1] as number;
  const messageId = desc[base + 7] as number;
  const v5 = ((w0 >> 8) & 7) === 5;
  if (type === 3) {
    if (topics) {
      p.topic = topics.topic(desc, base, src);
    } else {
      const off = desc[base + 3] as number;
      p.topic = src.toString('utf8', off, off + (desc[base + 4] as number));
    }
    if (qos > 0) p['messageId'] = messageId;
    const count = desc[base + 10] as number;
    if (count > 0 && recs) {
      const props: PropertyBag = {};
      const r = (desc[base + 9] as number) * 3;
      readProperties(recs, r, r + count * 3, src, props);
      p['properties'] = props;
    }
    const off = desc[base + 5] as number;
    p.payload = src.subarray(off, off + (desc[base + 6] as number));
    return p;
  }
  // Packets with records: walk them in wire order, assigning keys in mqtt-packet's order.
  if (type === 8) p['subscriptions'] = [];
  else if (type === 9) p['granted'] = [];
  else if (type === 10) p['unsubscriptions'] = [];
  if (messageId >= 0) p['messageId'] = messageId;
  const count = desc[base + 10] as number;
  if (count === 0 || !recs) {
    if (type === 11 && v5) p['granted'] = [];
    return p;
  }
  const bridge = (w0 & (1 << 11)) !== 0;
  let will: PropertyBag | undefined;
  let willProps: PropertyBag | undefined;
  let props: PropertyBag | undefined;
  const end = ((desc[base + 9] as number) + count) * 3;
  for (let r = (desc[base + 9] as number) * 3; r < end; ) {
    const w = recs[r] as number;
    const a = recs[r + 1] as number;
    const b = recs[r + 2] as number;
    switch (w & 0xff) {
      case RecordTag.SessionPresent:
        p['sessionPresent'] = a !== 0;
        break;
      case RecordTag.ReturnCode:
        p['returnCode'] = a;
        break;
      case RecordTag.ReasonCode:
        p['reasonCode'] = a;
        break;
      case RecordTag.PropsBegin: {
        const bag: PropertyBag = {};
        r = readProperties(recs, r, end, src, bag);
        if (a === 1) willProps = bag;
        else props = bag;
        if (type !== 1 && a === 0) p['properties'] = bag;
        continue;
      }
      case RecordTag.ProtocolId:
        p['protocolId'] = str(src, a, b);
        break;
      case RecordTag.ProtocolVersion:
        p['protocolVersion'] = a;
        if (a >= 128) {
          p['bridgeMode'] = true;
          p['protocolVersion'] = a - 128;
        }
        break;
      case RecordTag.ConnectFlags:
        if (a & 0x04) {
          will = { retain: (a & 0x20) !== 0, qos: (a & 0x18) >> 3 };
          p['will'] = will;
        }
        p['clean'] = (a & 0x02) !== 0;
        break;
      case RecordTag.Keepalive:
        p['keepalive'] = a;
        break;
      case RecordTag.ClientId:
        if (props) p['properties'] = props;
        p['clientId'] = str(src, a, b);
        break;
      case RecordTag.WillTopic:
        if (will) {
          if (willProps) will['properties'] = willProps;
          will['topic'] = str(src, a, b);
        }
        break;
      case RecordTag.WillPayload:
        if (will) will['payload'] = buf(src, a, b);
        break;
      case RecordTag.Username:
        p['username'] = str(src, a, b);
        break;
      case RecordTag.Password:
        p['password'] = buf(src, a, b);
        break;
      case RecordTag.Subscription: {
        const options = w >> 8;
        const s: Record<string, unknown> = { topic: str(src, a, b), qos: options & 3 };
        if (v5) {
          s['nl'] = ((options >> 2) & 1) !== 0;
          s['rap'] = ((options >> 3) & 1) !== 0;
          s['rh'] = (options >> 4) & 3;
        } else if (bridge) {
          s['rh'] = 0;
          s['rap'] = true;
          s['nl'] = true;
        }
        (p['subscriptions'] as unknown[]).push(s);
        break;
      }
      case RecordTag.Unsubscription:
        (p['unsubscriptions'] as unknown[]).push(str(src, a, b));
        break;
      case RecordTag.Granted: {
        let granted = p['granted'] as number[] | undefined;
        if (!granted) {
          granted = [];
          p['granted'] = granted;
        }
        granted.push(a);
        break;
      }
      default:
        break;
    }
    r += 3;
  }
  if (type === 11 && v5 && !p['granted']) p['granted'] = [];
  return p;
}
