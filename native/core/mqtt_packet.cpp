#include "mqtt_packet.h"

#include <cstring>

namespace tedge::mqtt {
namespace {

std::string slice(const uint8_t* src, int32_t off, int32_t len) {
  if (len <= 0) return std::string();
  return std::string(reinterpret_cast<const char*>(src + off), static_cast<size_t>(len));
}

class Writer {
 public:
  explicit Writer(std::vector<uint8_t>& out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) {
    out_.push_back(static_cast<uint8_t>(v >> 8));
    out_.push_back(static_cast<uint8_t>(v));
  }
  void u32(uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out_.push_back(static_cast<uint8_t>(v >> s));
  }
  bool varint(uint32_t v) {
    if (v > kVarintMax) return false;
    do {
      uint8_t d = v & 0x7f;
      v >>= 7;
      if (v) d |= 0x80;
      out_.push_back(d);
    } while (v);
    return true;
  }
  bool lstring(const std::string& s) {
    if (s.size() > 0xffff) return false;
    u16(static_cast<uint16_t>(s.size()));
    out_.insert(out_.end(), s.begin(), s.end());
    return true;
  }
  void raw(const std::string& s) { out_.insert(out_.end(), s.begin(), s.end()); }
  size_t size() const { return out_.size(); }

 private:
  std::vector<uint8_t>& out_;
};

size_t varint_size(uint32_t v) { return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4; }

/** Properties, grouped by id in first-seen order (user properties by name), as mqtt-packet regenerates them. */
bool write_properties(const std::vector<Property>& props, std::vector<uint8_t>& out) {
  std::vector<uint8_t> body;
  Writer w(body);
  std::vector<bool> done(props.size(), false);
  for (size_t i = 0; i < props.size(); i++) {
    if (done[i]) continue;
    for (size_t j = i; j < props.size(); j++) {
      if (done[j] || props[j].id != props[i].id) continue;
      if (props[i].id == kUserProperty && props[j].name != props[i].name) continue;
      done[j] = true;
      const Property& p = props[j];
      w.u8(p.id);
      switch (property_kind(p.id)) {
        case PropKind::Bool: w.u8(p.number ? 1 : 0); break;
        case PropKind::Int8: w.u8(static_cast<uint8_t>(p.number)); break;
        case PropKind::Int16: w.u16(static_cast<uint16_t>(p.number)); break;
        case PropKind::Int32: w.u32(p.number); break;
        case PropKind::Var:
          if (!w.varint(p.number)) return false;
          break;
        case PropKind::String:
        case PropKind::Binary:
          if (!w.lstring(p.value)) return false;
          break;
        case PropKind::Pair:
          if (!w.lstring(p.name) || !w.lstring(p.value)) return false;
          break;
        case PropKind::None: return false;
      }
    }
  }
  Writer o(out);
  if (!o.varint(static_cast<uint32_t>(body.size()))) return false;
  out.insert(out.end(), body.begin(), body.end());
  return true;
}

}  // namespace

Packet to_packet(const uint8_t* src, const PacketDesc& d, const int32_t* r, size_t nwords) {
  Packet p;
  p.type = d.first_byte >> 4;
  p.flags = d.first_byte & 15;
  p.version = d.version == 5 ? 5 : d.version == 3 ? 3 : 4;
  p.message_id = d.message_id;
  if (p.type == 3) {
    p.topic = slice(src, static_cast<int32_t>(d.topic_off), static_cast<int32_t>(d.topic_len));
    p.payload = slice(src, static_cast<int32_t>(d.payload_off), static_cast<int32_t>(d.payload_len));
  }
  std::vector<Property>* props = &p.properties;
  for (size_t i = 0; i + 3 <= nwords; i += 3) {
    int32_t tag = r[i] & 0xff;
    int32_t aux = r[i] >> 8;
    int32_t a = r[i + 1], b = r[i + 2];
    switch (tag) {
      case kRecSessionPresent: p.session_present = a != 0; break;
      case kRecReturnCode: p.return_code = a; break;
      case kRecReasonCode: p.reason_code = a; break;
      case kRecPropsBegin:
        if (a == 1) {
          props = &p.will_properties;
          p.has_will_properties = true;
        } else {
          props = &p.properties;
          p.has_properties = true;
        }
        break;
      case kRecPropsEnd: props = &p.properties; break;
      case kRecPropInt: {
        Property q;
        q.id = static_cast<uint8_t>(aux);
        q.number = static_cast<uint32_t>(a);
        props->push_back(q);
        break;
      }
      case kRecPropString:
      case kRecPropBinary: {
        Property q;
        q.id = static_cast<uint8_t>(aux);
        q.null_value = b < 0;
        q.value = slice(src, a, b);
        props->push_back(q);
        break;
      }
      case kRecPropPairName: {
        Property q;
        q.id = static_cast<uint8_t>(aux);
        q.null_name = b < 0;
        q.name = slice(src, a, b);
        props->push_back(q);
        break;
      }
      case kRecPropPairValue:
        if (!props->empty()) {
          props->back().null_value = b < 0;
          props->back().value = slice(src, a, b);
        }
        break;
      case kRecProtocolId: p.protocol_id = slice(src, a, b); break;
      case kRecProtocolVersion:
        p.protocol_level = static_cast<uint8_t>(a);
        p.version = static_cast<uint8_t>(a & 0x7f);
        break;
      case kRecConnectFlags: p.connect_flags = static_cast<uint8_t>(a); break;
      case kRecKeepalive: p.keepalive = static_cast<uint16_t>(a); break;
      case kRecClientId: p.client_id = slice(src, a, b); break;
      case kRecWillTopic: p.will_topic = slice(src, a, b); break;
      case kRecWillPayload: p.will_payload = slice(src, a, b); break;
      case kRecUsername: p.username = slice(src, a, b); break;
      case kRecPassword: p.password = slice(src, a, b); break;
      case kRecSubscription: p.subscriptions.push_back({slice(src, a, b), static_cast<uint8_t>(aux)}); break;
      case kRecUnsubscription: p.unsubscriptions.push_back(slice(src, a, b)); break;
      case kRecGranted: p.granted.push_back(static_cast<uint8_t>(a)); break;
      default: break;
    }
  }
  return p;
}

EncodeError serialize(const Packet& p, std::vector<uint8_t>& out) {
  std::vector<uint8_t> body;
  Writer w(body);
  bool v5 = p.version == 5;
  uint8_t flags = p.flags;
  auto props = [&](const std::vector<Property>& list) { return write_properties(list, body); };
  switch (static_cast<PacketType>(p.type)) {
    case PacketType::Connect: {
      flags = 0;
      if (!w.lstring(p.protocol_id)) return EncodeError::TooLong;
      w.u8(p.protocol_level);
      w.u8(p.connect_flags);
      w.u16(p.keepalive);
      if (v5 && !props(p.properties)) return EncodeError::InvalidVarint;
      if (!w.lstring(p.client_id)) return EncodeError::TooLong;
      if (p.connect_flags & 0x04) {
        if (v5 && !props(p.will_properties)) return EncodeError::InvalidVarint;
        if (!w.lstring(p.will_topic) || !w.lstring(p.will_payload)) return EncodeError::TooLong;
      }
      if ((p.connect_flags & 0x80) && !w.lstring(p.username)) return EncodeError::TooLong;
      if ((p.connect_flags & 0x40) && !w.lstring(p.password)) return EncodeError::TooLong;
      break;
    }
    case PacketType::Connack:
      flags = 0;
      w.u8(p.session_present ? 1 : 0);
      if (v5) {
        w.u8(static_cast<uint8_t>(p.reason_code < 0 ? 0 : p.reason_code));
        if (!props(p.properties)) return EncodeError::InvalidVarint;
      } else {
        w.u8(static_cast<uint8_t>(p.return_code < 0 ? 0 : p.return_code));
      }
      break;
    case PacketType::Publish:
      if (!w.lstring(p.topic)) return EncodeError::TooLong;
      if ((flags >> 1) & 3) w.u16(static_cast<uint16_t>(p.message_id));
      if (v5 && !props(p.properties)) return EncodeError::InvalidVarint;
      w.raw(p.payload);
      break;
    case PacketType::Puback:
    case PacketType::Pubrec:
    case PacketType::Pubrel:
    case PacketType::Pubcomp:
      flags = p.type == 6 ? 2 : 0;
      w.u16(static_cast<uint16_t>(p.message_id));
      if (v5) {
        uint8_t rc = static_cast<uint8_t>(p.reason_code < 0 ? 0 : p.reason_code);
        if (p.has_properties) {
          w.u8(rc);
          if (!props(p.properties)) return EncodeError::InvalidVarint;
        } else if (rc != 0) {
          w.u8(rc);
          w.u8(0);
        }
      }
      break;
    case PacketType::Subscribe:
      flags = 2;
      w.u16(static_cast<uint16_t>(p.message_id));
      if (v5 && !props(p.properties)) return EncodeError::InvalidVarint;
      for (const auto& s : p.subscriptions) {
        if (!w.lstring(s.topic)) return EncodeError::TooLong;
        w.u8(s.options);
      }
      break;
    case PacketType::Suback:
      flags = 0;
      w.u16(static_cast<uint16_t>(p.message_id));
      if (v5 && !props(p.properties)) return EncodeError::InvalidVarint;
      for (uint8_t g : p.granted) w.u8(g);
      break;
    case PacketType::Unsubscribe:
      flags = 2;
      w.u16(static_cast<uint16_t>(p.message_id));
      if (v5 && !props(p.properties)) return EncodeError::InvalidVarint;
      for (const auto& t : p.unsubscriptions)
        if (!w.lstring(t)) return EncodeError::TooLong;
      break;
    case PacketType::Unsuback:
      flags = 0;
      w.u16(static_cast<uint16_t>(p.message_id));
      if (v5) {
        if (!props(p.properties)) return EncodeError::InvalidVarint;
        for (uint8_t g : p.granted) w.u8(g);
      }
      break;
    case PacketType::Pingreq:
    case PacketType::Pingresp: flags = 0; break;
    case PacketType::Disconnect:
    case PacketType::Auth:
      flags = 0;
      if (v5) {
        w.u8(static_cast<uint8_t>(p.reason_code < 0 ? 0 : p.reason_code));
        if (!props(p.properties)) return EncodeError::InvalidVarint;
      } else if (p.type == 15) {
        return EncodeError::InvalidPacket;
      }
      break;
    case PacketType::Reserved: return EncodeError::InvalidPacket;
  }
  if (body.size() > kVarintMax) return EncodeError::InvalidVarint;
  Writer o(out);
  o.u8(static_cast<uint8_t>((p.type << 4) | flags));
  o.varint(static_cast<uint32_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return EncodeError::None;
}

size_t publish_frame_size(size_t topic_len, size_t payload_len, uint8_t qos, uint8_t version) {
  if (topic_len > 0xffff || qos > 2) return 0;
  uint64_t length = 2 + topic_len + payload_len + (qos ? 2 : 0) + (version == 5 ? 1 : 0);
  if (length > kVarintMax) return 0;
  return static_cast<size_t>(1 + varint_size(static_cast<uint32_t>(length)) + length);
}

void write_publish(uint8_t* dst, const uint8_t* topic, size_t topic_len, const uint8_t* payload, size_t payload_len,
                   uint8_t qos, bool retain, bool dup, uint16_t message_id, uint8_t version) {
  uint32_t length = static_cast<uint32_t>(2 + topic_len + payload_len + (qos ? 2 : 0) + (version == 5 ? 1 : 0));
  *dst++ = static_cast<uint8_t>(0x30 | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0));
  do {
    uint8_t d = length & 0x7f;
    length >>= 7;
    if (length) d |= 0x80;
    *dst++ = d;
  } while (length);
  *dst++ = static_cast<uint8_t>(topic_len >> 8);
  *dst++ = static_cast<uint8_t>(topic_len);
  if (topic_len) std::memcpy(dst, topic, topic_len);
  dst += topic_len;
  if (qos) {
    *dst++ = static_cast<uint8_t>(message_id >> 8);
    *dst++ = static_cast<uint8_t>(message_id);
  }
  if (version == 5) *dst++ = 0;
  if (payload_len) std::memcpy(dst, payload, payload_len);
}

EncodeError serialize_publish(const uint8_t* topic, size_t topic_len, const uint8_t* payload, size_t payload_len,
                              uint8_t qos, bool retain, bool dup, int32_t message_id, uint8_t version,
                              std::vector<uint8_t>& out) {
  size_t n = publish_frame_size(topic_len, payload_len, qos, version);
  if (n == 0) return topic_len > 0xffff ? EncodeError::TooLong : EncodeError::InvalidVarint;
  size_t at = out.size();
  out.resize(at + n);
  write_publish(out.data() + at, topic, topic_len, payload, payload_len, qos, retain, dup,
                static_cast<uint16_t>(message_id), version);
  return EncodeError::None;
}

}  // namespace tedge::mqtt
