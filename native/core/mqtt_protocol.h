// MQTT 3.1.1 / 5.0 protocol constants shared by the frame parser, the serializer and the binding.
// The error list mirrors the messages of mqtt-packet's parser so that the mqtt-packet-compatible
// module can emit the same Error messages; the numeric values are part of the addon contract
// (src/native/frame-format.ts keeps the same table).
#pragma once

#include <cstdint>

namespace tedge::mqtt {

enum class PacketType : uint8_t {
  Reserved = 0, Connect = 1, Connack = 2, Publish = 3, Puback = 4, Pubrec = 5, Pubrel = 6, Pubcomp = 7,
  Subscribe = 8, Suback = 9, Unsubscribe = 10, Unsuback = 11, Pingreq = 12, Pingresp = 13,
  Disconnect = 14, Auth = 15,
};

const char* packet_type_name(uint8_t type);

enum class ParseError : uint8_t {
  None = 0,
  HeaderFlags = 1,          // "Invalid header flag bits, must be 0x<f> for <type> packet"
  QosBits = 2,              // "Packet must not have both QoS bits set to 1"
  InvalidVarint = 3,        // "Invalid variable byte integer"
  NotSupported = 4,         // "Not supported"
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
  InvalidConfirmationCode = 33,  // "Invalid <type> reason code"
  InvalidDisconnectCode = 34,
  AuthNotSupported = 35,
  InvalidAuthCode = 36,
  CannotParsePropertyType = 37,
  UnknownProperty = 38,
  // Not in mqtt-packet (it reads such fields from the next packet's bytes or emits a packet):
  PacketTooLarge = 39,      // "Maximum packet size exceeded"
  MalformedProperty = 40,   // "Malformed property: value runs past the end of the packet"
};

/** The message text (mqtt-packet's wording where it has one); `type` names the packet where needed. */
const char* parse_error_format(ParseError err);

/** Property value kinds, as mqtt-packet's constants.propertiesTypes. */
enum class PropKind : uint8_t { None = 0, Bool, Int8, Int16, Int32, Var, String, Pair, Binary };
PropKind property_kind(uint8_t id);

constexpr uint8_t kUserProperty = 38;
constexpr uint32_t kVarintMax = 268435455;

bool valid_confirmation_code(uint8_t type, uint8_t code);
bool valid_suback_code_v5(uint8_t code);
bool valid_unsuback_code_v5(uint8_t code);
bool valid_disconnect_code(uint8_t code);
bool valid_auth_code(uint8_t code);

/** Flags the spec requires in the fixed header, or -1 where any value is allowed (PUBLISH, reserved). */
int required_header_flags(uint8_t type);

}  // namespace tedge::mqtt
