#include "mqtt_decoder.h"

#include <cstring>

#include "cursor.h"

namespace tedge::mqtt {
namespace {

class BodyDecoder {
 public:
  BodyDecoder(const uint8_t* src, uint32_t body, uint32_t len, Settings& settings, PacketDesc& out,
              std::vector<int32_t>& records)
      : src_(src), body_(body), c_(src + body, len), settings_(settings), out_(out), rec_(records) {}

  ParseError run(uint8_t type) {
    switch (static_cast<PacketType>(type)) {
      case PacketType::Connect: return connect();
      case PacketType::Connack: return connack();
      case PacketType::Publish: return publish();
      case PacketType::Puback:
      case PacketType::Pubrec:
      case PacketType::Pubrel:
      case PacketType::Pubcomp: return confirmation(type);
      case PacketType::Subscribe: return subscribe();
      case PacketType::Suback: return suback();
      case PacketType::Unsubscribe: return unsubscribe();
      case PacketType::Unsuback: return unsuback();
      case PacketType::Pingreq:
      case PacketType::Pingresp: return ParseError::None;
      case PacketType::Disconnect: return disconnect();
      case PacketType::Auth: return auth();
      case PacketType::Reserved: break;
    }
    return ParseError::NotSupported;
  }

 private:
  bool v5() const { return settings_.version == 5; }
  int32_t abs(size_t pos) const { return static_cast<int32_t>(body_ + pos); }

  void record(int32_t tag, int32_t aux, int32_t a, int32_t b) {
    rec_.push_back(tag | (aux << 8));
    rec_.push_back(a);
    rec_.push_back(b);
  }

  /** mqtt-packet _parseString/_parseBuffer, bounded by the frame: false = null. */
  bool lstring(int32_t& off, int32_t& len) {
    uint16_t n;
    if (!c_.u16(n)) return false;
    size_t start = c_.pos();
    if (!c_.skip(n)) return false;
    off = abs(start);
    len = n;
    return true;
  }

  bool message_id() {
    uint16_t id;
    if (!c_.u16(id)) return false;
    out_.message_id = id;
    return true;
  }

  /** mqtt-packet _parseProperties; `which` = 0 packet, 1 will. Emits nothing for an empty list. */
  ParseError properties(int32_t which) {
    uint32_t length = 0;
    size_t nbytes = 0;
    switch (c_.varint(length, nbytes)) {
      case Cursor::Varint::Ok: break;
      case Cursor::Varint::Incomplete: return ParseError::None;  // mqtt-packet: length false → {}
      case Cursor::Varint::Invalid: return ParseError::InvalidVarint;
    }
    size_t end = c_.pos() + length;  // may lie past the frame: reads below are bounded by it
    if (c_.pos() >= end) return ParseError::None;
    record(kRecPropsBegin, 0, which, 0);
    while (c_.pos() < end) {
      uint8_t id = 0;
      if (!c_.u8(id) || id == 0) return ParseError::CannotParsePropertyType;
      switch (property_kind(id)) {
        case PropKind::None: return ParseError::UnknownProperty;
        case PropKind::Bool:
        case PropKind::Int8: {
          uint8_t v;
          if (!c_.u8(v)) return ParseError::MalformedProperty;
          record(kRecPropInt, id, v, 0);
          break;
        }
        case PropKind::Int16: {
          uint16_t v;
          if (!c_.u16(v)) return ParseError::MalformedProperty;
          record(kRecPropInt, id, v, 0);
          break;
        }
        case PropKind::Int32: {
          uint32_t v;
          if (!c_.u32(v)) return ParseError::MalformedProperty;
          record(kRecPropInt, id, static_cast<int32_t>(v), 0);
          break;
        }
        case PropKind::Var: {
          uint32_t v;
          size_t n;
          switch (c_.varint(v, n)) {
            case Cursor::Varint::Ok: break;
            case Cursor::Varint::Incomplete: return ParseError::MalformedProperty;
            case Cursor::Varint::Invalid: return ParseError::InvalidVarint;
          }
          record(kRecPropInt, id, static_cast<int32_t>(v), 0);
          break;
        }
        case PropKind::String:
        case PropKind::Binary: {
          int32_t off = 0, len = -1;
          if (!lstring(off, len)) off = 0, len = -1;  // mqtt-packet stores null
          record(property_kind(id) == PropKind::String ? kRecPropString : kRecPropBinary, id, off, len);
          break;
        }
        case PropKind::Pair: {
          int32_t noff = 0, nlen = -1, voff = 0, vlen = -1;
          if (!lstring(noff, nlen)) noff = 0, nlen = -1;
          if (!lstring(voff, vlen)) voff = 0, vlen = -1;
          record(kRecPropPairName, id, noff, nlen);
          record(kRecPropPairValue, 0, voff, vlen);
          break;
        }
      }
    }
    record(kRecPropsEnd, 0, which, 0);
    return ParseError::None;
  }

  ParseError connect() {
    int32_t off, len;
    if (!lstring(off, len)) return ParseError::CannotParseProtocolId;
    const uint8_t* p = src_ + off;
    bool mqtt = (len == 4 && std::memcmp(p, "MQTT", 4) == 0) || (len == 6 && std::memcmp(p, "MQIsdp", 6) == 0);
    if (!mqtt) return ParseError::InvalidProtocolId;
    record(kRecProtocolId, 0, off, len);
    uint8_t level;
    if (!c_.u8(level)) return ParseError::PacketTooShort;
    uint8_t version = level >= 128 ? static_cast<uint8_t>(level - 128) : level;
    if (version != 3 && version != 4 && version != 5) return ParseError::InvalidProtocolVersion;
    record(kRecProtocolVersion, 0, level, 0);
    uint8_t flags;
    if (!c_.u8(flags)) return ParseError::PacketTooShort;
    if (flags & 0x01) return ParseError::ConnectFlagBit0;
    bool will = (flags & 0x04) != 0;
    if (!will) {
      if (flags & 0x20) return ParseError::WillRetainWithoutWill;
      if (flags & 0x18) return ParseError::WillQosWithoutWill;
    }
    record(kRecConnectFlags, 0, flags, 0);
    uint16_t keepalive;
    if (!c_.u16(keepalive)) return ParseError::PacketTooShort;
    record(kRecKeepalive, 0, keepalive, 0);
    // The rest of the CONNECT is read with the version it announces.
    Settings announced{version, level >= 128};
    Settings saved = settings_;
    settings_ = announced;
    ParseError err = connect_payload(will, flags);
    settings_ = err == ParseError::None ? announced : saved;
    return err;
  }

  ParseError connect_payload(bool will, uint8_t flags) {
    if (v5()) {
      ParseError err = properties(0);
      if (err != ParseError::None) return err;
    }
    int32_t off, len;
    if (!lstring(off, len)) return ParseError::PacketTooShort;
    record(kRecClientId, 0, off, len);
    if (will) {
      if (v5()) {
        ParseError err = properties(1);
        if (err != ParseError::None) return err;
      }
      if (!lstring(off, len)) return ParseError::CannotParseWillTopic;
      record(kRecWillTopic, 0, off, len);
      if (!lstring(off, len)) return ParseError::CannotParseWillPayload;
      record(kRecWillPayload, 0, off, len);
    }
    if (flags & 0x80) {
      if (!lstring(off, len)) return ParseError::CannotParseUsername;
      record(kRecUsername, 0, off, len);
    }
    if (flags & 0x40) {
      if (!lstring(off, len)) return ParseError::CannotParsePassword;
      record(kRecPassword, 0, off, len);
    }
    return ParseError::None;
  }

  ParseError connack() {
    uint8_t flags;
    if (!c_.u8(flags)) return ParseError::PacketTooShort;
    if (flags > 1) return ParseError::InvalidConnackFlags;
    record(kRecSessionPresent, 0, flags & 1, 0);
    if (v5()) {
      uint8_t rc = 0;
      if (!c_.u8(rc)) rc = 0;  // mqtt-packet: reasonCode 0 when absent
      record(kRecReasonCode, 0, rc, 0);
      return properties(0);
    }
    uint8_t rc;
    if (!c_.u8(rc)) return ParseError::CannotParseReturnCode;
    record(kRecReturnCode, 0, rc, 0);
    return ParseError::None;
  }

  ParseError publish() {
    int32_t off, len;
    if (!lstring(off, len)) return ParseError::CannotParseTopic;
    out_.topic_off = static_cast<uint32_t>(off);
    out_.topic_len = static_cast<uint32_t>(len);
    uint8_t qos = (out_.first_byte >> 1) & 3;
    if (qos > 0 && !message_id()) return ParseError::CannotParseMessageId;
    if (v5()) {
      ParseError err = properties(0);
      if (err != ParseError::None) return err;
    }
    size_t pos = c_.pos();
    out_.payload_off = static_cast<uint32_t>(abs(pos));
    out_.payload_len = static_cast<uint32_t>(c_.size() - pos);
    return ParseError::None;
  }

  ParseError confirmation(uint8_t type) {
    if (!message_id()) return ParseError::CannotParseMessageId;
    if (!v5()) return ParseError::None;
    uint8_t rc = 0;
    if (c_.size() > 2) {
      c_.u8(rc);
      if (!valid_confirmation_code(type, rc)) return ParseError::InvalidConfirmationCode;
    }
    record(kRecReasonCode, 0, rc, 0);
    if (c_.size() > 3) return properties(0);
    return ParseError::None;
  }

  /** The variable header of SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK: a message id, then v5 properties. */
  ParseError id_and_properties(ParseError no_payload) {
    if (c_.size() == 0) return no_payload;
    if (!message_id()) return ParseError::CannotParseMessageId;
    if (v5()) return properties(0);
    return ParseError::None;
  }

  ParseError subscribe() {
    ParseError err = id_and_properties(ParseError::SubscribeNoPayload);
    if (err != ParseError::None) return err;
    while (!c_.at_end()) {
      int32_t off, len;
      if (!lstring(off, len)) return ParseError::CannotParseTopic;
      uint8_t options;
      if (!c_.u8(options)) return ParseError::MalformedSubscribePayload;
      if (v5()) {
        if (options & 0xc0) return ParseError::SubscribeFlagBits5;
      } else if (options & 0xfc) {
        return ParseError::SubscribeFlagBits4;
      }
      if ((options & 3) > 2) return ParseError::InvalidSubscribeQos;
      if (((options >> 4) & 3) > 2) return ParseError::InvalidRetainHandling;
      record(kRecSubscription, options, off, len);
    }
    return ParseError::None;
  }

  ParseError suback() {
    ParseError err = id_and_properties(ParseError::SubackNoPayload);
    if (err != ParseError::None) return err;
    uint8_t code;
    while (c_.u8(code)) {
      if (v5()) {
        if (!valid_suback_code_v5(code)) return ParseError::InvalidSubackCode;
      } else if (code > 2 && code != 0x80) {
        return ParseError::InvalidSubackQos;
      }
      record(kRecGranted, 0, code, 0);
    }
    return ParseError::None;
  }

  ParseError unsubscribe() {
    ParseError err = id_and_properties(ParseError::UnsubscribeNoPayload);
    if (err != ParseError::None) return err;
    while (!c_.at_end()) {
      int32_t off, len;
      if (!lstring(off, len)) return ParseError::CannotParseTopic;
      record(kRecUnsubscription, 0, off, len);
    }
    return ParseError::None;
  }

  ParseError unsuback() {
    if ((settings_.version == 3 || settings_.version == 4) && c_.size() != 2) return ParseError::UnsubackLength;
    ParseError err = id_and_properties(ParseError::UnsubackNoPayload);
    if (err != ParseError::None || !v5()) return err;
    uint8_t code;
    while (c_.u8(code)) {
      if (!valid_unsuback_code_v5(code)) return ParseError::InvalidUnsubackCode;
      record(kRecGranted, 0, code, 0);
    }
    return ParseError::None;
  }

  ParseError disconnect() {
    if (!v5()) return ParseError::None;
    // A v5 DISCONNECT may be empty: reason 0, no properties (mqtt-packet reads the next frame's byte).
    uint8_t rc = 0;
    if (c_.u8(rc) && !valid_disconnect_code(rc)) return ParseError::InvalidDisconnectCode;
    record(kRecReasonCode, 0, rc, 0);
    return properties(0);
  }

  ParseError auth() {
    if (!v5()) return ParseError::AuthNotSupported;
    uint8_t rc = 0;  // an empty AUTH means Success [MQTT-3.15.2-1]
    if (c_.u8(rc) && !valid_auth_code(rc)) return ParseError::InvalidAuthCode;
    record(kRecReasonCode, 0, rc, 0);
    return properties(0);
  }

  const uint8_t* src_;
  uint32_t body_;
  Cursor c_;
  Settings& settings_;
  PacketDesc& out_;
  std::vector<int32_t>& rec_;
};

}  // namespace

ParseError decode_body(const uint8_t* src, uint32_t body, uint32_t len, uint8_t first_byte, Settings& settings,
                       PacketDesc& out, std::vector<int32_t>& records) {
  out.first_byte = first_byte;
  out.body = body;
  out.remaining_length = len;
  out.topic_off = out.topic_len = out.payload_off = out.payload_len = 0;
  out.message_id = -1;
  out.version = settings.version;
  out.bridge = settings.bridge;
  size_t mark = records.size();
  BodyDecoder d(src, body, len, settings, out, records);
  ParseError err = d.run(static_cast<uint8_t>(first_byte >> 4));
  if (err != ParseError::None) records.resize(mark);
  return err;
}

}  // namespace tedge::mqtt
