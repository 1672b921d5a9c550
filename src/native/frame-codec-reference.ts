/**
 * The pure-TypeScript frame codec: the same contract and the same output words as the native
 * parser (native/core/mqtt_stream.cpp + mqtt_decoder.cpp), written as a line-by-line counterpart so
 * that the two can be diffed. Used when the addon is not available, and as the differential oracle.
 */
import type { FrameCodec } from './frame-codec';
import {
  DESC_WORDS,
  FLAG_BRIDGE,
  FLAG_ERROR,
  FLAG_FROM_CARRY,
  META_BRIDGE,
  META_CARRIED,
  META_COUNT,
  META_OFFSET,
  META_PENDING,
  META_STATUS,
  META_TOPICS_RESET,
  META_VERSION,
  ParseError,
  PROPERTIES,
  PropKind,
  RecordTag,
  requiredHeaderFlags,
} from './frame-format';

const enum Next {
  Packet,
  Error,
  NeedMore,
}

const PUBACK_PUBREC_CODES = new Set([0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]);
const SUBACK_CODES = new Set([0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2]);
const UNSUBACK_CODES = new Set([0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91]);
const DISCONNECT_CODES = new Set([
  0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98,
  0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2,
]);
const AUTH_CODES = new Set([0x00, 0x18, 0x19]);

/** Result of a variable byte integer read: value, or -1 incomplete, -2 invalid (4th byte continues). */
const VARINT_INCOMPLETE = -1;
const VARINT_INVALID = -2;

export class ReferenceFrameCodec implements FrameCodec {
  readonly isNative = false;
  private readonly capacity: number;
  private version: number;
  private bridge = false;
  private readonly records: number[] = [];
  private carry: Buffer = Buffer.alloc(0);
  private carryLen = 0;
  private carryHeaderLen = 0;
  private carryLength = 0;
  private carryDone = false;
  private completedCarry: Buffer | undefined;
  private errored = false;
  private pending = 0;
  // Current packet being decoded.
  private src: Buffer = Buffer.alloc(0);
  private pos = 0;
  private end = 0;
  private messageId = -1;
  private topicOff = 0;
  private topicLen = 0;
  private payloadOff = 0;
  private payloadLen = 0;

  constructor(
    readonly desc: Int32Array,
    readonly meta: Int32Array,
    protocolVersion: number,
    private readonly maxPacketSize: number,
  ) {
    this.capacity = Math.floor(desc.length / DESC_WORDS);
    this.version = protocolVersion === 3 || protocolVersion === 4 || protocolVersion === 5 ? protocolVersion : 0;
  }

  takeRecords(): Int32Array | undefined {
    return this.records.length === 0 ? undefined : Int32Array.from(this.records);
  }

  takeCarry(): Buffer | undefined {
    return this.completedCarry;
  }

  parse(chunk: Uint8Array, offset: number): number {
    const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (offset <= 0 || offset > data.length) {
      offset = 0;
      this.beginChunk();
    }
    this.records.length = 0;
    this.completedCarry = undefined;
    let count = 0;
    let status = 0;
    const state = { offset };
    for (;;) {
      if (count === this.capacity) {
        status = 1;
        break;
      }
      const d = count * DESC_WORDS;
      const next = this.next(data, state, d);
      if (next === Next.NeedMore) break;
      count++;
      if (next === Next.Error) break;
    }
    const m = this.meta;
    m[META_OFFSET] = state.offset;
    m[META_STATUS] = status;
    m[META_PENDING] = this.pending;
    m[META_COUNT] = count;
    m[META_VERSION] = this.version;
    m[META_BRIDGE] = this.bridge ? 1 : 0;
    m[META_CARRIED] = this.carryDone ? 0 : this.carryLen;
    m[META_TOPICS_RESET] = 0;
    return count;
  }

  private beginChunk(): void {
    if (this.errored) {
      this.resetCarry();
      this.errored = false;
    }
    this.setPendingForCarry();
  }

  private resetCarry(): void {
    this.carryLen = 0;
    this.carryHeaderLen = 0;
    this.carryLength = 0;
    this.carryDone = false;
  }

  private setPendingForCarry(): void {
    // mqtt-packet consumes the first byte at once and the length bytes once the length is complete.
    this.pending = this.carryLen === 0 ? 0 : this.carryLen - (this.carryHeaderLen !== 0 ? this.carryHeaderLen : 1);
  }

  private appendCarry(data: Buffer, from: number, to: number): void {
    const need = this.carryLen + (to - from);
    if (need > this.carry.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.carry.length * 2, 64));
      this.carry.copy(grown, 0, 0, this.carryLen);
      this.carry = grown;
    }
    data.copy(this.carry, this.carryLen, from, to);
    this.carryLen = need;
  }

  private fail(err: ParseError, firstByte: number, d: number, pending: number): Next {
    const desc = this.desc;
    desc[d] = firstByte | (this.version << 8) | (this.bridge ? FLAG_BRIDGE : 0) | FLAG_ERROR;
    desc[d + 1] = err;
    this.errored = true;
    this.pending = pending;
    return Next.Error;
  }

  private static varint(buf: Buffer, at: number, end: number): [number, number] {
    let value = 0;
    let mul = 1;
    for (let i = 0; i < 4; i++) {
      if (at + i >= end) return [VARINT_INCOMPLETE, i];
      const b = buf[at + i] as number;
      value += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) return [value, i + 1];
    }
    return [VARINT_INVALID, 4];
  }

  private static checkFirstByte(b: number): ParseError {
    const required = requiredHeaderFlags(b >> 4);
    if (required >= 0 && (b & 15) !== required) return ParseError.HeaderFlags;
    if (((b >> 1) & 3) === 3) return ParseError.QosBits;
    return ParseError.None;
  }

  private next(data: Buffer, state: { offset: number }, d: number): Next {
    if (this.carryDone) this.resetCarry();
    const len = data.length;
    if (this.errored) {
      state.offset = len;
      return Next.NeedMore;
    }
    if (this.carryLen !== 0) {
      while (this.carryHeaderLen === 0) {
        if (state.offset >= len) {
          this.setPendingForCarry();
          return Next.NeedMore;
        }
        this.appendCarry(data, state.offset, state.offset + 1);
        state.offset++;
        const [length, n] = ReferenceFrameCodec.varint(this.carry, 1, this.carryLen);
        if (length === VARINT_INCOMPLETE) continue;
        if (length === VARINT_INVALID) {
          return this.fail(ParseError.InvalidVarint, this.carry[0] as number, d, this.carryLen - 1 + (len - state.offset));
        }
        this.carryHeaderLen = 1 + n;
        this.carryLength = length;
        if (this.carryHeaderLen + length > this.maxPacketSize) {
          return this.fail(ParseError.PacketTooLarge, this.carry[0] as number, d, len - state.offset);
        }
      }
      const total = this.carryHeaderLen + this.carryLength;
      const take = Math.min(total - this.carryLen, len - state.offset);
      this.appendCarry(data, state.offset, state.offset + take);
      state.offset += take;
      if (this.carryLen < total) {
        this.setPendingForCarry();
        return Next.NeedMore;
      }
      this.carryDone = true;
      const frame = Buffer.from(this.carry.subarray(0, total)); // its own copy, as the native side hands out
      const r = this.finishFrame(frame, 0, this.carryHeaderLen, this.carryLength, true, d);
      if (r === Next.Error) this.pending = this.carryLength + (len - state.offset);
      else this.completedCarry = frame;
      return r;
    }
    if (state.offset >= len) {
      this.pending = 0;
      return Next.NeedMore;
    }
    const start = state.offset;
    const first = data[start] as number;
    const err = ReferenceFrameCodec.checkFirstByte(first);
    if (err !== ParseError.None) return this.fail(err, first, d, len - start);
    const [length, n] = ReferenceFrameCodec.varint(data, start + 1, len);
    if (length === VARINT_INVALID) return this.fail(ParseError.InvalidVarint, first, d, len - start - 1);
    if (length === VARINT_INCOMPLETE) {
      this.carryLen = 0;
      this.appendCarry(data, start, len);
      state.offset = len;
      this.setPendingForCarry();
      return Next.NeedMore;
    }
    const headerLen = 1 + n;
    if (headerLen + length > this.maxPacketSize) return this.fail(ParseError.PacketTooLarge, first, d, len - start - headerLen);
    if (len - start < headerLen + length) {
      this.carryLen = 0;
      this.appendCarry(data, start, len);
      this.carryHeaderLen = headerLen;
      this.carryLength = length;
      state.offset = len;
      this.setPendingForCarry();
      return Next.NeedMore;
    }
    state.offset = start + headerLen + length;
    const r = this.finishFrame(data, start, headerLen, length, false, d);
    if (r === Next.Error) this.pending = len - start - headerLen;
    return r;
  }

  private finishFrame(src: Buffer, start: number, headerLen: number, length: number, fromCarry: boolean, d: number): Next {
    const first = src[start] as number;
    const body = start + headerLen;
    const version = this.version;
    const bridge = this.bridge;
    this.src = src;
    this.pos = body;
    this.end = body + length;
    this.messageId = -1;
    this.topicOff = this.topicLen = this.payloadOff = this.payloadLen = 0;
    const mark = this.records.length;
    const err = this.decode(first >> 4, first);
    const desc = this.desc;
    const w0 = first | (version << 8) | (bridge ? FLAG_BRIDGE : 0);
    if (err !== ParseError.None) {
      this.records.length = mark;
      desc[d] = w0 | FLAG_ERROR;
      desc[d + 1] = err;
      this.errored = true;
      return Next.Error;
    }
    desc[d] = w0 | (fromCarry ? FLAG_FROM_CARRY : 0);
    desc[d + 1] = length;
    desc[d + 2] = body;
    desc[d + 3] = this.topicOff;
    desc[d + 4] = this.topicLen;
    desc[d + 5] = this.payloadOff;
    desc[d + 6] = this.payloadLen;
    desc[d + 7] = this.messageId;
    desc[d + 8] = -1;
    desc[d + 9] = mark / 3;
    desc[d + 10] = (this.records.length - mark) / 3;
    desc[d + 11] = headerLen;
    return Next.Packet;
  }

  // ---- body decoding: mirrors BodyDecoder in native/core/mqtt_decoder.cpp ---------------------

  private record(tag: RecordTag, aux: number, a: number, b: number): void {
    this.records.push(tag | (aux << 8), a, b);
  }

  private u8(): number {
    return this.pos < this.end ? (this.src[this.pos++] as number) : -1;
  }

  private u16(): number {
    if (this.end - this.pos < 2) return -1;
    const v = this.src.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  /** A length-prefixed string or binary: [offset, length], or undefined (mqtt-packet's null). */
  private lstring(): [number, number] | undefined {
    const n = this.u16();
    if (n < 0) return undefined;
    if (this.end - this.pos < n) return undefined;
    const off = this.pos;
    this.pos += n;
    return [off, n];
  }

  private decode(type: number, first: number): ParseError {
    switch (type) {
      case 1:
        return this.connect();
      case 2:
        return this.connack();
      case 3:
        return this.publish(first);
      case 4:
      case 5:
      case 6:
      case 7:
        return this.confirmation(type);
      case 8:
        return this.subscribe();
      case 9:
        return this.suback();
      case 10:
        return this.unsubscribe();
      case 11:
        return this.unsuback();
      case 12:
      case 13:
        return ParseError.None;
      case 14:
        return this.disconnect();
      case 15:
        return this.auth();
      default:
        return ParseError.NotSupported;
    }
  }

  private properties(which: number): ParseError {
    const [length, n] = ReferenceFrameCodec.varint(this.src, this.pos, this.end);
    if (length === VARINT_INVALID) return ParseError.InvalidVarint;
    if (length === VARINT_INCOMPLETE) {
      this.pos += n;
      return ParseError.None; // mqtt-packet: length false → {}
    }
    this.pos += n;
    const end = this.pos + length;
    if (this.pos >= end) return ParseError.None;
    this.record(RecordTag.PropsBegin, 0, which, 0);
    while (this.pos < end) {
      const id = this.u8();
      if (id <= 0) return ParseError.CannotParsePropertyType;
      const prop = PROPERTIES.get(id);
      if (!prop) return ParseError.UnknownProperty;
      switch (prop[1]) {
        case PropKind.Bool:
        case PropKind.Int8: {
          const v = this.u8();
          if (v < 0) return ParseError.MalformedProperty;
          this.record(RecordTag.PropInt, id, v, 0);
          break;
        }
        case PropKind.Int16: {
          const v = this.u16();
          if (v < 0) return ParseError.MalformedProperty;
          this.record(RecordTag.PropInt, id, v, 0);
          break;
        }
        case PropKind.Int32: {
          if (this.end - this.pos < 4) return ParseError.MalformedProperty;
          const v = this.src.readInt32BE(this.pos);
          this.pos += 4;
          this.record(RecordTag.PropInt, id, v, 0);
          break;
        }
        case PropKind.Var: {
          const [v, k] = ReferenceFrameCodec.varint(this.src, this.pos, this.end);
          if (v === VARINT_INCOMPLETE) return ParseError.MalformedProperty;
          if (v === VARINT_INVALID) return ParseError.InvalidVarint;
          this.pos += k;
          this.record(RecordTag.PropInt, id, v, 0);
          break;
        }
        case PropKind.String:
        case PropKind.Binary: {
          const s = this.lstring();
          this.record(prop[1] === PropKind.String ? RecordTag.PropString : RecordTag.PropBinary, id, s ? s[0] : 0, s ? s[1] : -1);
          break;
        }
        case PropKind.Pair: {
          const name = this.lstring();
          const value = this.lstring();
          this.record(RecordTag.PropPairName, id, name ? name[0] : 0, name ? name[1] : -1);
          this.record(RecordTag.PropPairValue, 0, value ? value[0] : 0, value ? value[1] : -1);
          break;
        }
        default:
          return ParseError.UnknownProperty;
      }
    }
    this.record(RecordTag.PropsEnd, 0, which, 0);
    return ParseError.None;
  }

  private connect(): ParseError {
    const id = this.lstring();
    if (!id) return ParseError.CannotParseProtocolId;
    const [off, len] = id;
    const name = this.src.toString('latin1', off, off + len);
    if (!((len === 4 && name === 'MQTT') || (len === 6 && name === 'MQIsdp'))) return ParseError.InvalidProtocolId;
    this.record(RecordTag.ProtocolId, 0, off, len);
    const level = this.u8();
    if (level < 0) return ParseError.PacketTooShort;
    const version = level >= 128 ? level - 128 : level;
    if (version !== 3 && version !== 4 && version !== 5) return ParseError.InvalidProtocolVersion;
    this.record(RecordTag.ProtocolVersion, 0, level, 0);
    const flags = this.u8();
    if (flags < 0) return ParseError.PacketTooShort;
    if (flags & 0x01) return ParseError.ConnectFlagBit0;
    const will = (flags & 0x04) !== 0;
    if (!will) {
      if (flags & 0x20) return ParseError.WillRetainWithoutWill;
      if (flags & 0x18) return ParseError.WillQosWithoutWill;
    }
    this.record(RecordTag.ConnectFlags, 0, flags, 0);
    const keepalive = this.u16();
    if (keepalive < 0) return ParseError.PacketTooShort;
    this.record(RecordTag.Keepalive, 0, keepalive, 0);
    // The rest of the CONNECT is read with the version it announces.
    const saved = [this.version, this.bridge] as const;
    this.version = version;
    this.bridge = level >= 128;
    const err = this.connectPayload(will, flags);
    if (err !== ParseError.None) [this.version, this.bridge] = saved;
    return err;
  }

  private connectPayload(will: boolean, flags: number): ParseError {
    const v5 = this.version === 5;
    if (v5) {
      const err = this.properties(0);
      if (err !== ParseError.None) return err;
    }
    let s = this.lstring();
    if (!s) return ParseError.PacketTooShort;
    this.record(RecordTag.ClientId, 0, s[0], s[1]);
    if (will) {
      if (v5) {
        const err = this.properties(1);
        if (err !== ParseError.None) return err;
      }
      s = this.lstring();
      if (!s) return ParseError.CannotParseWillTopic;
      this.record(RecordTag.WillTopic, 0, s[0], s[1]);
      s = this.lstring();
      if (!s) return ParseError.CannotParseWillPayload;
      this.record(RecordTag.WillPayload, 0, s[0], s[1]);
    }
    if (flags & 0x80) {
      s = this.lstring();
      if (!s) return ParseError.CannotParseUsername;
      this.record(RecordTag.Username, 0, s[0], s[1]);
    }
    if (flags & 0x40) {
      s = this.lstring();
      if (!s) return ParseError.CannotParsePassword;
      this.record(RecordTag.Password, 0, s[0], s[1]);
    }
    return ParseError.None;
  }

  private connack(): ParseError {
    const flags = this.u8();
    if (flags < 0) return ParseError.PacketTooShort;
    if (flags > 1) return ParseError.InvalidConnackFlags;
    this.record(RecordTag.SessionPresent, 0, flags & 1, 0);
    if (this.version === 5) {
      const rc = this.u8();
      this.record(RecordTag.ReasonCode, 0, rc < 0 ? 0 : rc, 0);
      return this.properties(0);
    }
    const rc = this.u8();
    if (rc < 0) return ParseError.CannotParseReturnCode;
    this.record(RecordTag.ReturnCode, 0, rc, 0);
    return ParseError.None;
  }

  private publish(first: number): ParseError {
    const topic = this.lstring();
    if (!topic) return ParseError.CannotParseTopic;
    this.topicOff = topic[0];
    this.topicLen = topic[1];
    if ((first >> 1) & 3 && !this.readMessageId()) return ParseError.CannotParseMessageId;
    if (this.version === 5) {
      const err = this.properties(0);
      if (err !== ParseError.None) return err;
    }
    this.payloadOff = this.pos;
    this.payloadLen = this.end - this.pos;
    return ParseError.None;
  }

  private confirmation(type: number): ParseError {
    if (!this.readMessageId()) return ParseError.CannotParseMessageId;
    if (this.version !== 5) return ParseError.None;
    const size = this.end - (this.pos - 2);
    let rc = 0;
    if (size > 2) {
      rc = this.u8();
      const ok = type === 4 || type === 5 ? PUBACK_PUBREC_CODES.has(rc) : rc === 0x00 || rc === 0x92;
      if (!ok) return ParseError.InvalidConfirmationCode;
    }
    this.record(RecordTag.ReasonCode, 0, rc, 0);
    if (size > 3) return this.properties(0);
    return ParseError.None;
  }

  private readMessageId(): boolean {
    const id = this.u16();
    if (id < 0) return false;
    this.messageId = id;
    return true;
  }

  /** The variable header of SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK: a message id, then v5 properties. */
  private idAndProperties(noPayload: ParseError): ParseError {
    if (this.end === this.pos) return noPayload;
    if (!this.readMessageId()) return ParseError.CannotParseMessageId;
    if (this.version === 5) return this.properties(0);
    return ParseError.None;
  }

  private subscribe(): ParseError {
    const err = this.idAndProperties(ParseError.SubscribeNoPayload);
    if (err !== ParseError.None) return err;
    const v5 = this.version === 5;
    while (this.pos < this.end) {
      const t = this.lstring();
      if (!t) return ParseError.CannotParseTopic;
      const options = this.u8();
      if (options < 0) return ParseError.MalformedSubscribePayload;
      if (v5) {
        if (options & 0xc0) return ParseError.SubscribeFlagBits5;
      } else if (options & 0xfc) {
        return ParseError.SubscribeFlagBits4;
      }
      if ((options & 3) > 2) return ParseError.InvalidSubscribeQos;
      if (((options >> 4) & 3) > 2) return ParseError.InvalidRetainHandling;
      this.record(RecordTag.Subscription, options, t[0], t[1]);
    }
    return ParseError.None;
  }

  private suback(): ParseError {
    const err = this.idAndProperties(ParseError.SubackNoPayload);
    if (err !== ParseError.None) return err;
    const v5 = this.version === 5;
    for (let code = this.u8(); code >= 0; code = this.u8()) {
      if (v5) {
        if (!SUBACK_CODES.has(code)) return ParseError.InvalidSubackCode;
      } else if (code > 2 && code !== 0x80) {
        return ParseError.InvalidSubackQos;
      }
      this.record(RecordTag.Granted, 0, code, 0);
    }
    return ParseError.None;
  }

  private unsubscribe(): ParseError {
    const err = this.idAndProperties(ParseError.UnsubscribeNoPayload);
    if (err !== ParseError.None) return err;
    while (this.pos < this.end) {
      const t = this.lstring();
      if (!t) return ParseError.CannotParseTopic;
      this.record(RecordTag.Unsubscription, 0, t[0], t[1]);
    }
    return ParseError.None;
  }

  private unsuback(): ParseError {
    const size = this.end - this.pos;
    if ((this.version === 3 || this.version === 4) && size !== 2) return ParseError.UnsubackLength;
    const err = this.idAndProperties(ParseError.UnsubackNoPayload);
    if (err !== ParseError.None || this.version !== 5) return err;
    for (let code = this.u8(); code >= 0; code = this.u8()) {
      if (!UNSUBACK_CODES.has(code)) return ParseError.InvalidUnsubackCode;
      this.record(RecordTag.Granted, 0, code, 0);
    }
    return ParseError.None;
  }

  private disconnect(): ParseError {
    if (this.version !== 5) return ParseError.None;
    // A v5 DISCONNECT may be empty: reason 0, no properties (mqtt-packet reads the next frame's byte).
    let rc = this.u8();
    if (rc < 0) rc = 0;
    else if (!DISCONNECT_CODES.has(rc)) return ParseError.InvalidDisconnectCode;
    this.record(RecordTag.ReasonCode, 0, rc, 0);
    return this.properties(0);
  }

  private auth(): ParseError {
    if (this.version !== 5) return ParseError.AuthNotSupported;
    let rc = this.u8(); // an empty AUTH means Success [MQTT-3.15.2-1]
    if (rc < 0) rc = 0;
    else if (!AUTH_CODES.has(rc)) return ParseError.InvalidAuthCode;
    this.record(RecordTag.ReasonCode, 0, rc, 0);
    return this.properties(0);
  }
}
