// Decoding of one complete MQTT frame into a flat, allocation-free description: a fixed PacketDesc
// for the hot fields (PUBLISH topic and payload, message id) and a list of records (3 x int32 each)
// for everything else, in wire order. Offsets are absolute in the source buffer, so a consumer can
// slice the bytes it wants and skip the rest. The TypeScript reference (src/native/frame-codec-reference.ts)
// produces exactly the same words; src/native/frame-format.ts documents them for the TS side.
//
// Semantics follow mqtt-packet 9's parser for every frame it parses without reading past the frame
// (the same packets, the same error messages); where mqtt-packet would read the next frame's bytes,
// this decoder stays inside the frame and reports an error instead.
#pragma once

#include <cstdint>
#include <vector>

#include "mqtt_protocol.h"

namespace tedge::mqtt {

/** Record tags; word 0 of a record is `tag | aux << 8`. */
enum RecordTag : int32_t {
  kRecSessionPresent = 1,  // a = 0/1
  kRecReturnCode = 2,      // a = code (MQTT 3.1.1 CONNACK)
  kRecReasonCode = 3,      // a = code
  kRecPropsBegin = 4,      // a = 0 packet properties, 1 will properties
  kRecPropsEnd = 5,
  kRecPropInt = 6,         // aux = property id, a = value (bool/int8/int16/int32/var)
  kRecPropString = 7,      // aux = id, a = offset, b = length or -1 for null
  kRecPropBinary = 8,      // aux = id, a = offset, b = length or -1 for null
  kRecPropPairName = 9,    // aux = 38, a/b = name; always followed by kRecPropPairValue
  kRecPropPairValue = 10,  // a/b = value
  kRecProtocolId = 11,     // a/b
  kRecProtocolVersion = 12,// a = the raw byte (bridge bit included)
  kRecConnectFlags = 13,   // a = flags byte
  kRecKeepalive = 14,      // a
  kRecClientId = 15,
  kRecWillTopic = 16,
  kRecWillPayload = 17,
  kRecUsername = 18,
  kRecPassword = 19,
  kRecSubscription = 20,   // aux = options byte, a/b = topic filter
  kRecUnsubscription = 21, // a/b = topic filter
  kRecGranted = 22,        // a = code
};

/** Parser state that a CONNECT changes (mqtt-packet: `this.settings = packet`). 0 = not given. */
struct Settings {
  uint8_t version = 0;
  bool bridge = false;
};

struct PacketDesc {
  uint8_t first_byte = 0;
  uint8_t header_len = 0;       // fixed header: 1 + length bytes
  uint32_t remaining_length = 0;
  uint32_t body = 0;            // offset of the variable header in the source
  uint32_t topic_off = 0, topic_len = 0;      // PUBLISH
  uint32_t payload_off = 0, payload_len = 0;  // PUBLISH
  int32_t message_id = -1;      // -1: the packet has none
  uint8_t version = 0;          // settings in effect for this packet
  bool bridge = false;
};

/**
 * Decodes the body src[body, body+len) of a frame whose first byte is `first_byte`.
 * Appends this packet's records to `records`; on error they are removed again.
 */
ParseError decode_body(const uint8_t* src, uint32_t body, uint32_t len, uint8_t first_byte,
                       Settings& settings, PacketDesc& out, std::vector<int32_t>& records);

}  // namespace tedge::mqtt
