#include "mqtt_fixture_support.h"

#include <cstdio>
#include <cstdlib>

#include "mqtt_decoder.h"
#include "mqtt_protocol.h"

namespace tedge::test {
namespace {

const char* prop_name(int id) {
  switch (id) {
    case 17: return "sessionExpiryInterval";
    case 24: return "willDelayInterval";
    case 33: return "receiveMaximum";
    case 39: return "maximumPacketSize";
    case 34: return "topicAliasMaximum";
    case 25: return "requestResponseInformation";
    case 23: return "requestProblemInformation";
    case 38: return "userProperties";
    case 21: return "authenticationMethod";
    case 22: return "authenticationData";
    case 1: return "payloadFormatIndicator";
    case 2: return "messageExpiryInterval";
    case 3: return "contentType";
    case 8: return "responseTopic";
    case 9: return "correlationData";
    case 36: return "maximumQoS";
    case 37: return "retainAvailable";
    case 18: return "assignedClientIdentifier";
    case 31: return "reasonString";
    case 40: return "wildcardSubscriptionAvailable";
    case 41: return "subscriptionIdentifiersAvailable";
    case 42: return "sharedSubscriptionAvailable";
    case 19: return "serverKeepAlive";
    case 26: return "responseInformation";
    case 28: return "serverReference";
    case 35: return "topicAlias";
    case 11: return "subscriptionIdentifier";
  }
  return "?";
}

std::string to_hex(const uint8_t* p, size_t n) {
  static const char h[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; i++) {
    s += h[p[i] >> 4];
    s += h[p[i] & 15];
  }
  return s;
}

Json buffer(const uint8_t* src, int32_t off, int32_t len) {
  Json o = jobj();
  put(o, "$hex", jstr(len > 0 ? to_hex(src + off, static_cast<size_t>(len)) : ""));
  return o;
}

Json text(const uint8_t* src, int32_t off, int32_t len) {
  // mqtt-packet decodes with toString('utf8'); fixtures are valid UTF-8, so the bytes are the string.
  return jstr(len > 0 ? std::string(reinterpret_cast<const char*>(src + off), static_cast<size_t>(len)) : "");
}

bool truthy(const Json& v) {
  switch (v.kind) {
    case Json::Null: return false;
    case Json::Bool: return v.b;
    case Json::Number: return v.n != 0;
    case Json::String: return !v.s.empty();
    default: return true;
  }
}

Json* field(Json& obj, const std::string& key) {
  for (auto& f : obj.fields)
    if (f.first == key) return &f.second;
  return nullptr;
}

/** mqtt-packet _parseProperties, including its truthiness rule for repeated properties. */
void add_property(Json& props, int id, Json value, const std::string* pair_name) {
  if (pair_name) {
    Json* up = field(props, "userProperties");
    if (!up) {
      put(props, "userProperties", jobj());
      up = field(props, "userProperties");
    }
    Json* cur = field(*up, *pair_name);
    if (cur && truthy(*cur)) {
      if (cur->kind != Json::Array) {
        Json arr = jarr();
        arr.items.push_back(*cur);
        *cur = arr;
      }
      cur->items.push_back(std::move(value));
    } else if (cur) {
      *cur = std::move(value);
    } else {
      put(*up, *pair_name, std::move(value));
    }
    return;
  }
  const char* name = prop_name(id);
  Json* cur = field(props, name);
  if (cur && truthy(*cur)) {
    if (cur->kind != Json::Array) {
      Json arr = jarr();
      arr.items.push_back(*cur);
      *cur = arr;
    }
    cur->items.push_back(std::move(value));
  } else if (cur) {
    *cur = std::move(value);
  } else {
    put(props, name, std::move(value));
  }
}

}  // namespace

std::vector<uint8_t> frame_bytes(const Json& lines) {
  std::vector<uint8_t> out;
  for (const Json& line : lines.items) {
    std::string s = line.s;
    size_t hash = s.find('#');
    if (hash != std::string::npos) s = s.substr(0, hash);
    size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && s[i] == ' ') i++;
      size_t j = i;
      while (j < s.size() && s[j] != ' ') j++;
      if (j > i) {
        std::string tok = s.substr(i, j - i);
        size_t star = tok.find('*');
        uint8_t b = static_cast<uint8_t>(std::strtoul(tok.substr(0, 2).c_str(), nullptr, 16));
        size_t count = star == std::string::npos ? 1 : std::strtoul(tok.substr(star + 1).c_str(), nullptr, 10);
        out.insert(out.end(), count, b);
      }
      i = j;
    }
  }
  return out;
}

Json normalise_buffers(const Json& v) {
  if (v.kind == Json::Object && v.fields.size() == 1) {
    const auto& f = v.fields[0];
    if (f.first == "$utf8") {
      Json o = jobj();
      put(o, "$hex", jstr(to_hex(reinterpret_cast<const uint8_t*>(f.second.s.data()), f.second.s.size())));
      return o;
    }
    if (f.first == "$fill") {
      std::vector<uint8_t> bytes(static_cast<size_t>(f.second.items[1].n), static_cast<uint8_t>(f.second.items[0].n));
      Json o = jobj();
      put(o, "$hex", jstr(to_hex(bytes.data(), bytes.size())));
      return o;
    }
    if (f.first == "$hex") return v;
  }
  Json out = v;
  for (auto& item : out.items) item = normalise_buffers(item);
  for (auto& f : out.fields) f.second = normalise_buffers(f.second);
  return out;
}

std::string error_message(const mqtt::StreamDecoder::Event& ev) {
  uint8_t type = ev.desc.first_byte >> 4;
  const char* fmt = mqtt::parse_error_format(ev.error);
  char buf[160];
  if (ev.error == mqtt::ParseError::HeaderFlags) {
    std::snprintf(buf, sizeof buf, fmt, mqtt::required_header_flags(type), mqtt::packet_type_name(type));
  } else if (ev.error == mqtt::ParseError::InvalidConfirmationCode) {
    std::snprintf(buf, sizeof buf, fmt, mqtt::packet_type_name(type));
  } else {
    std::snprintf(buf, sizeof buf, "%s", fmt);
  }
  return buf;
}

Json render_packet(const mqtt::StreamDecoder::Event& ev, const std::vector<int32_t>& records) {
  using namespace mqtt;
  const uint8_t* src = ev.src;
  const PacketDesc& d = ev.desc;
  uint8_t type = d.first_byte >> 4;
  bool v5 = d.version == 5;
  Json p = jobj();
  put(p, "cmd", jstr(packet_type_name(type)));
  put(p, "retain", jbool(d.first_byte & 1));
  put(p, "qos", jnum((d.first_byte >> 1) & 3));
  put(p, "dup", jbool(d.first_byte & 8));
  put(p, "length", jnum(d.remaining_length));
  put(p, "topic", jnull());
  put(p, "payload", jnull());
  if (type == 3) {
    *field(p, "topic") = text(src, static_cast<int32_t>(d.topic_off), static_cast<int32_t>(d.topic_len));
    *field(p, "payload") = buffer(src, static_cast<int32_t>(d.payload_off), static_cast<int32_t>(d.payload_len));
  }
  if (type == 8) put(p, "subscriptions", jarr());
  if (type == 9) put(p, "granted", jarr());
  if (type == 10) put(p, "unsubscriptions", jarr());
  if (d.message_id >= 0) put(p, "messageId", jnum(d.message_id));
  Json props = jobj(), will_props = jobj();
  Json* target = &props;
  Json will = jobj();
  bool has_will = false;
  std::string pair_name;
  bool bridge = d.bridge;
  for (size_t i = ev.records_begin; i + 3 <= ev.records_end; i += 3) {
    int32_t tag = records[i] & 0xff, aux = records[i] >> 8, a = records[i + 1], b = records[i + 2];
    switch (tag) {
      case kRecSessionPresent: put(p, "sessionPresent", jbool(a)); break;
      case kRecReturnCode: put(p, "returnCode", jnum(a)); break;
      case kRecReasonCode: put(p, "reasonCode", jnum(a)); break;
      case kRecPropsBegin: target = a == 1 ? &will_props : &props; break;
      case kRecPropsEnd: target = &props; break;
      case kRecPropInt: {
        PropKind k = property_kind(static_cast<uint8_t>(aux));
        add_property(*target, aux, k == PropKind::Bool ? jbool(a != 0) : jnum(static_cast<uint32_t>(a)), nullptr);
        break;
      }
      case kRecPropString: add_property(*target, aux, b < 0 ? jnull() : text(src, a, b), nullptr); break;
      case kRecPropBinary: add_property(*target, aux, b < 0 ? jnull() : buffer(src, a, b), nullptr); break;
      case kRecPropPairName: pair_name = b < 0 ? "null" : std::string(reinterpret_cast<const char*>(src + a), b); break;
      case kRecPropPairValue: add_property(*target, 38, b < 0 ? jnull() : text(src, a, b), &pair_name); break;
      case kRecProtocolId: put(p, "protocolId", text(src, a, b)); break;
      case kRecProtocolVersion:
        put(p, "protocolVersion", jnum(a & 0x7f));
        if (a >= 128) {
          put(p, "bridgeMode", jbool(true));
        }
        break;
      case kRecConnectFlags:
        if (a & 4) {
          has_will = true;
          put(will, "retain", jbool(a & 0x20));
          put(will, "qos", jnum((a >> 3) & 3));
          put(p, "will", jobj());
        }
        put(p, "clean", jbool(a & 2));
        break;
      case kRecKeepalive: put(p, "keepalive", jnum(a)); break;
      case kRecClientId:
        if (!props.fields.empty()) put(p, "properties", props);
        put(p, "clientId", text(src, a, b));
        break;
      case kRecWillTopic:
        if (!will_props.fields.empty()) put(will, "properties", will_props);
        put(will, "topic", text(src, a, b));
        break;
      case kRecWillPayload: put(will, "payload", buffer(src, a, b)); break;
      case kRecUsername: put(p, "username", text(src, a, b)); break;
      case kRecPassword: put(p, "password", buffer(src, a, b)); break;
      case kRecSubscription: {
        Json s = jobj();
        put(s, "topic", text(src, a, b));
        put(s, "qos", jnum(aux & 3));
        if (v5) {
          put(s, "nl", jbool((aux >> 2) & 1));
          put(s, "rap", jbool((aux >> 3) & 1));
          put(s, "rh", jnum((aux >> 4) & 3));
        } else if (bridge) {
          put(s, "rh", jnum(0));
          put(s, "rap", jbool(true));
          put(s, "nl", jbool(true));
        }
        field(p, "subscriptions")->items.push_back(s);
        break;
      }
      case kRecUnsubscription: field(p, "unsubscriptions")->items.push_back(text(src, a, b)); break;
      case kRecGranted: {
        Json* g = field(p, "granted");
        if (!g) {
          put(p, "granted", jarr());
          g = field(p, "granted");
        }
        g->items.push_back(jnum(a));
        break;
      }
    }
  }
  if (has_will) *field(p, "will") = will;
  if (type != 1 && !props.fields.empty()) put(p, "properties", props);
  if (type == 11 && v5 && !field(p, "granted")) put(p, "granted", jarr());
  return p;
}

StreamResult run_stream(const std::vector<uint8_t>& bytes, const std::vector<size_t>& cuts,
                        mqtt::StreamDecoder::Options opts) {
  StreamResult r;
  mqtt::StreamDecoder dec(opts);
  size_t start = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(bytes.size());
  for (size_t end : ends) {
    if (end < start) continue;
    dec.begin_chunk();
    size_t off = 0;
    const uint8_t* chunk = bytes.data() + start;
    size_t len = end - start;
    for (;;) {
      mqtt::StreamDecoder::Event ev;
      auto next = dec.next(chunk, len, off, ev);
      if (next == mqtt::StreamDecoder::Next::NeedMore) break;
      if (next == mqtt::StreamDecoder::Next::Error) {
        r.error = error_message(ev);
        r.pending = dec.mqtt_packet_pending();
        return r;
      }
      r.packets.push_back(render_packet(ev, dec.records()));
    }
    dec.clear_records();
    r.pending = dec.mqtt_packet_pending();
    start = end;
  }
  return r;
}

}  // namespace tedge::test
