/**
 * The flat packet description shared by the native frame parser (native/core/mqtt_decoder.h) and
 * the TypeScript reference (frame-codec-reference.ts). Both write exactly these words; the
 * differential test compares them word for word.
 *
 * Per packet, DESC_WORDS int32 in the descriptor table:
 *
 * | word | meaning |
 * |---|---|
 * | 0 | first byte of the frame (bits 0-7), protocol version in effect (8-10), bridge mode (11), flags below |
 * | 1 | remaining length; for an error descriptor: the ParseError code |
 * | 2 | offset of the variable header in the source |
 * | 3, 4 | PUBLISH topic: offset, length |
 * | 5, 6 | PUBLISH payload: offset, length |
 * | 7 | message id, or -1 |
 * | 8 | interned topic id, or -1 (native only, when topic interning is on; see META_TOPICS_RESET) |
 * | 9, 10 | first record index, record count (records: 3 words each, see RecordTag) |
 * | 11 | fixed header length (1 + remaining-length bytes) |
 *
 * The source is the chunk passed to parse(), or, when FLAG_FROM_CARRY is set, the Buffer returned
 * by takeCarry() (a frame that arrived across chunks). Offsets are absolute in that source.
 */
export const DESC_WORDS = 12;
export const RECORD_WORDS = 3;

export const FLAG_BRIDGE = 1 << 11;
export const FLAG_FROM_CARRY = 1 << 12;
export const FLAG_ERROR = 1 << 13;
/** The topic id in word 8 is new: decode the topic and remember it under that id. */
export const FLAG_TOPIC_NEW = 1 << 14;

/** Words of the `meta` Int32Array, written by every parse() call. */
export const META_WORDS = 8;
export const META_OFFSET = 0; // where the next parse() call of this chunk starts
export const META_STATUS = 1; // 0: chunk consumed; 1: descriptor table full, call again at META_OFFSET
export const META_PENDING = 2; // what mqtt-packet's parse() would return (bytes it still holds)
export const META_COUNT = 3;
export const META_VERSION = 4; // protocol version now in effect (a CONNECT changes it)
export const META_BRIDGE = 5;
export const META_CARRIED = 6; // bytes of an incomplete frame held between chunks
export const META_TOPICS_RESET = 7; // the native topic table started over at this call: drop all ids first

export const enum RecordTag {
  SessionPresent = 1,
  ReturnCode = 2,
  ReasonCode = 3,
  PropsBegin = 4, // a = 0 packet properties, 1 will properties
  PropsEnd = 5,
  PropInt = 6, // aux = property id, a = value
  PropString = 7, // aux = id, a = offset, b = length or -1 (null)
  PropBinary = 8,
  PropPairName = 9, // followed by PropPairValue
  PropPairValue = 10,
  ProtocolId = 11,
  ProtocolVersion = 12, // a = raw byte (bridge bit included)
  ConnectFlags = 13,
  Keepalive = 14,
  ClientId = 15,
  WillTopic = 16,
  WillPayload = 17,
  Username = 18,
  Password = 19,
  Subscription = 20, // aux = options byte
  Unsubscription = 21,
  Granted = 22,
}

/** ParseError codes (native/core/mqtt_protocol.h) and their messages: mqtt-packet's wording. */
export const enum ParseError {
  None = 0,
  HeaderFlags = 1,
  QosBits = 2,
  InvalidVarint = 3,
  NotSupported = 4,
  CannotParseProtocolId = 5,
  InvalidProtocolId = 6,
  PacketTooShort = 7,
  InvalidProtocolVersion = 8,
  ConnectFlagBit0 = 9,
  WillRetainWithoutWill = 10,
  WillQosWithoutWill = 11,
  CannotParseWillTopic = 12,
  CannotParseWillPayload = 13,
  CannotParseUsername = 14,
  CannotParsePassword = 15,
  InvalidConnackFlags = 16,
  CannotParseReturnCode = 17,
  CannotParseTopic = 18,
  CannotParseMessageId = 19,
  SubscribeNoPayload = 20,
  MalformedSubscribePayload = 21,
  SubscribeFlagBits5 = 22,
  SubscribeFlagBits4 = 23,
  InvalidSubscribeQos = 24,
  InvalidRetainHandling = 25,
  SubackNoPayload = 26,
  InvalidSubackCode = 27,
  InvalidSubackQos = 28,
  UnsubscribeNoPayload = 29,
  UnsubackLength = 30,
  UnsubackNoPayload = 31,
  InvalidUnsubackCode = 32,
  InvalidConfirmationCode = 33,
  InvalidDisconnectCode = 34,
  AuthNotSupported = 35,
  InvalidAuthCode = 36,
  CannotParsePropertyType = 37,
  UnknownProperty = 38,
  PacketTooLarge = 39,
  MalformedProperty = 40,
}

export const PARSE_ERROR_FORMATS: readonly string[] = [
  '',
  'Invalid header flag bits, must be 0x%x for %s packet',
  'Packet must not have both QoS bits set to 1',
  'Invalid variable byte integer',
  'Not supported',
  'Cannot parse protocolId',
  'Invalid protocolId',
  'Packet too short',
  'Invalid protocol version',
  'Connect flag bit 0 must be 0, but got 1',
  'Will Retain Flag must be set to zero when Will Flag is set to 0',
  'Will QoS must be set to zero when Will Flag is set to 0',
  'Cannot parse will topic',
  'Cannot parse will payload',
  'Cannot parse username',
  'Cannot parse password',
  'Invalid connack flags, bits 7-1 must be set to 0',
  'Cannot parse return code',
  'Cannot parse topic',
  'Cannot parse messageId',
  'Malformed subscribe, no payload specified',
  'Malformed Subscribe Payload',
  'Invalid subscribe topic flag bits, bits 7-6 must be 0',
  'Invalid subscribe topic flag bits, bits 7-2 must be 0',
  'Invalid subscribe QoS, must be <= 2',
  'Invalid retain handling, must be <= 2',
  'Malformed suback, no payload specified',
  'Invalid suback code',
  'Invalid suback QoS, must be 0, 1, 2 or 128',
  'Malformed unsubscribe, no payload specified',
  'Malformed unsuback, payload length must be 2',
  'Malformed unsuback, no payload specified',
  'Invalid unsuback code',
  'Invalid %s reason code',
  'Invalid disconnect reason code',
  'Not supported auth packet for this version MQTT',
  'Invalid auth reason code',
  'Cannot parse property code type',
  'Unknown property',
  'Maximum packet size exceeded',
  'Malformed property: value runs past the end of the packet',
];

export const PACKET_TYPES = [
  'reserved', 'connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp',
  'subscribe', 'suback', 'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect', 'auth',
] as const;
export type PacketCmd = (typeof PACKET_TYPES)[number];

/** Fixed-header flags the spec requires, or -1 (PUBLISH, reserved). */
export function requiredHeaderFlags(type: number): number {
  return type === 0 || type === 3 ? -1 : type === 6 || type === 8 || type === 10 ? 2 : 0;
}

/** The Error message for an error descriptor (first byte + code). */
export function parseErrorMessage(firstByte: number, code: number): string {
  const type = firstByte >> 4;
  const format = PARSE_ERROR_FORMATS[code] ?? 'Malformed packet';
  if (code === ParseError.HeaderFlags) {
    return format.replace('%x', requiredHeaderFlags(type).toString(16)).replace('%s', PACKET_TYPES[type] ?? '?');
  }
  return format.replace('%s', PACKET_TYPES[type] ?? '?');
}

export const enum PropKind {
  None = 0,
  Bool,
  Int8,
  Int16,
  Int32,
  Var,
  String,
  Pair,
  Binary,
}

/** MQTT 5 property id → [mqtt-packet's name, kind]. */
export const PROPERTIES: ReadonlyMap<number, readonly [string, PropKind]> = new Map<number, readonly [string, PropKind]>([
  [17, ['sessionExpiryInterval', PropKind.Int32]],
  [24, ['willDelayInterval', PropKind.Int32]],
  [33, ['receiveMaximum', PropKind.Int16]],
  [39, ['maximumPacketSize', PropKind.Int32]],
  [34, ['topicAliasMaximum', PropKind.Int16]],
  [25, ['requestResponseInformation', PropKind.Bool]],
  [23, ['requestProblemInformation', PropKind.Bool]],
  [38, ['userProperties', PropKind.Pair]],
  [21, ['authenticationMethod', PropKind.String]],
  [22, ['authenticationData', PropKind.Binary]],
  [1, ['payloadFormatIndicator', PropKind.Bool]],
  [2, ['messageExpiryInterval', PropKind.Int32]],
  [3, ['contentType', PropKind.String]],
  [8, ['responseTopic', PropKind.String]],
  [9, ['correlationData', PropKind.Binary]],
  [36, ['maximumQoS', PropKind.Int8]],
  [37, ['retainAvailable', PropKind.Bool]],
  [18, ['assignedClientIdentifier', PropKind.String]],
  [31, ['reasonString', PropKind.String]],
  [40, ['wildcardSubscriptionAvailable', PropKind.Bool]],
  [41, ['subscriptionIdentifiersAvailable', PropKind.Bool]],
  [42, ['sharedSubscriptionAvailable', PropKind.Bool]],
  [19, ['serverKeepAlive', PropKind.Int16]],
  [26, ['responseInformation', PropKind.String]],
  [28, ['serverReference', PropKind.String]],
  [35, ['topicAlias', PropKind.Int16]],
  [11, ['subscriptionIdentifier', PropKind.Var]],
]);

export const VARBYTEINT_MAX = 268435455;
/** Default maximum frame size: anything mqtt-packet accepts (header + 4-byte length + body). */
export const DEFAULT_MAX_PACKET_SIZE = VARBYTEINT_MAX + 5;
