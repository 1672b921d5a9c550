#include "mqtt_protocol.h"

namespace tedge::mqtt {

const char* packet_type_name(uint8_t type) {
  static const char* const names[16] = {"reserved", "connect", "connack", "publish", "puback", "pubrec",
                                        "pubrel", "pubcomp", "subscribe", "suback", "unsubscribe",
                                        "unsuback", "pingreq", "pingresp", "disconnect", "auth"};
  return names[type & 15];
}

const char* parse_error_format(ParseError err) {
  switch (err) {
    case ParseError::None: return "";
    case ParseError::HeaderFlags: return "Invalid header flag bits, must be 0x%x for %s packet";
    case ParseError::QosBits: return "Packet must not have both QoS bits set to 1";
    case ParseError::InvalidVarint: return "Invalid variable byte integer";
    case ParseError::NotSupported: return "Not supported";
    case ParseError::CannotParseProtocolId: return "Cannot parse protocolId";
    case ParseError::InvalidProtocolId: return "Invalid protocolId";
    case ParseError::PacketTooShort: return "Packet too short";
    case ParseError::InvalidProtocolVersion: return "Invalid protocol version";
    case ParseError::ConnectFlagBit0: return "Connect flag bit 0 must be 0, but got 1";
    case ParseError::WillRetainWithoutWill: return "Will Retain Flag must be set to zero when Will Flag is set to 0";
    case ParseError::WillQosWithoutWill: return "Will QoS must be set to zero when Will Flag is set to 0";
    case ParseError::CannotParseWillTopic: return "Cannot parse will topic";
    case ParseError::CannotParseWillPayload: return "Cannot parse will payload";
    case ParseError::CannotParseUsername: return "Cannot parse username";
    case ParseError::CannotParsePassword: return "Cannot parse password";
    case ParseError::InvalidConnackFlags: return "Invalid connack flags, bits 7-1 must be set to 0";
    case ParseError::CannotParseReturnCode: return "Cannot parse return code";
    case ParseError::CannotParseTopic: return "Cannot parse topic";
    case ParseError::CannotParseMessageId: return "Cannot parse messageId";
    case ParseError::SubscribeNoPayload: return "Malformed subscribe, no payload specified";
    case ParseError::MalformedSubscribePayload: return "Malformed Subscribe Payload";
    case ParseError::SubscribeFlagBits5: return "Invalid subscribe topic flag bits, bits 7-6 must be 0";
    case ParseError::SubscribeFlagBits4: return "Invalid subscribe topic flag bits, bits 7-2 must be 0";
    case ParseError::InvalidSubscribeQos: return "Invalid subscribe QoS, must be <= 2";
    case ParseError::InvalidRetainHandling: return "Invalid retain handling, must be <= 2";
    case ParseError::SubackNoPayload: return "Malformed suback, no payload specified";
    case ParseError::InvalidSubackCode: return "Invalid suback code";
    case ParseError::InvalidSubackQos: return "Invalid suback QoS, must be 0, 1, 2 or 128";
    case ParseError::UnsubscribeNoPayload: return "Malformed unsubscribe, no payload specified";
    case ParseError::UnsubackLength: return "Malformed unsuback, payload length must be 2";
    case ParseError::UnsubackNoPayload: return "Malformed unsuback, no payload specified";
    case ParseError::InvalidUnsubackCode: return "Invalid unsuback code";
    case ParseError::InvalidConfirmationCode: return "Invalid %s reason code";
    case ParseError::InvalidDisconnectCode: return "Invalid disconnect reason code";
    case ParseError::AuthNotSupported: return "Not supported auth packet for this version MQTT";
    case ParseError::InvalidAuthCode: return "Invalid auth reason code";
    case ParseError::CannotParsePropertyType: return "Cannot parse property code type";
    case ParseError::UnknownProperty: return "Unknown property";
    case ParseError::PacketTooLarge: return "Maximum packet size exceeded";
    case ParseError::MalformedProperty: return "Malformed property: value runs past the end of the packet";
  }
  return "Malformed packet";
}

PropKind property_kind(uint8_t id) {
  switch (id) {
    case 1: case 23: case 25: case 37: case 40: case 41: case 42: return PropKind::Bool;
    case 36: return PropKind::Int8;
    case 19: case 33: case 34: case 35: return PropKind::Int16;
    case 2: case 17: case 24: case 39: return PropKind::Int32;
    case 11: return PropKind::Var;
    case 3: case 8: case 18: case 21: case 26: case 28: case 31: return PropKind::String;
    case 38: return PropKind::Pair;
    case 9: case 22: return PropKind::Binary;
    default: return PropKind::None;
  }
}

bool valid_confirmation_code(uint8_t type, uint8_t code) {
  if (type == 4 || type == 5) {  // puback, pubrec
    switch (code) {
      case 0x00: case 0x10: case 0x80: case 0x83: case 0x87: case 0x90: case 0x91: case 0x97: case 0x99: return true;
      default: return false;
    }
  }
  return code == 0x00 || code == 0x92;  // pubrel, pubcomp
}

bool valid_suback_code_v5(uint8_t code) {
  switch (code) {
    case 0x00: case 0x01: case 0x02: case 0x80: case 0x83: case 0x87: case 0x8F: case 0x91: case 0x97:
    case 0x9E: case 0xA1: case 0xA2: return true;
    default: return false;
  }
}

bool valid_unsuback_code_v5(uint8_t code) {
  switch (code) {
    case 0x00: case 0x11: case 0x80: case 0x83: case 0x87: case 0x8F: case 0x91: return true;
    default: return false;
  }
}

bool valid_disconnect_code(uint8_t code) {
  switch (code) {
    case 0x00: case 0x04: case 0x80: case 0x81: case 0x82: case 0x83: case 0x87: case 0x89: case 0x8B:
    case 0x8D: case 0x8E: case 0x8F: case 0x90: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97:
    case 0x98: case 0x99: case 0x9A: case 0x9B: case 0x9C: case 0x9D: case 0x9E: case 0x9F: case 0xA0:
    case 0xA1: case 0xA2: return true;
    default: return false;
  }
}

bool valid_auth_code(uint8_t code) { return code == 0x00 || code == 0x18 || code == 0x19; }

int required_header_flags(uint8_t type) {
  switch (type) {
    case 0: case 3: return -1;
    case 6: case 8: case 10: return 2;
    default: return 0;
  }
}

}  // namespace tedge::mqtt
