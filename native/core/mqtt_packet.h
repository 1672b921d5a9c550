// A structured MQTT packet (owning strings) built from the flat decoder output, and the serializer.
// This is what host tests, the fuzzer's round trip and the PUBLISH fast path of the addon use; the
// hot parse path never builds it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mqtt_decoder.h"

namespace tedge::mqtt {

struct Property {
  uint8_t id = 0;
  uint32_t number = 0;      // bool/int8/int16/int32/var
  std::string value;        // string/binary, or the pair's value
  std::string name;         // pair name
  bool null_value = false;  // mqtt-packet stores null for a string that runs past the packet
  bool null_name = false;
};

struct Subscription {
  std::string topic;
  uint8_t options = 0;  // qos | nl << 2 | rap << 3 | rh << 4
};

struct Packet {
  uint8_t type = 0;
  uint8_t flags = 0;      // low nibble of the fixed header
  uint8_t version = 4;    // protocol version used to encode/decode the body (3, 4 or 5)
  int32_t message_id = -1;
  // PUBLISH
  std::string topic;
  std::string payload;
  // CONNACK / acks / DISCONNECT / AUTH
  bool session_present = false;
  int32_t return_code = -1;  // MQTT 3.1.1 CONNACK
  int32_t reason_code = -1;  // MQTT 5
  bool has_properties = false;  // mqtt-packet: a `properties` object is present
  std::vector<Property> properties;
  // CONNECT
  std::string protocol_id = "MQTT";
  uint8_t protocol_level = 4;  // raw byte, bridge bit included
  uint8_t connect_flags = 0;
  uint16_t keepalive = 0;
  std::string client_id;
  bool has_will_properties = false;
  std::vector<Property> will_properties;
  std::string will_topic, will_payload, username, password;
  // SUBSCRIBE / SUBACK / UNSUBSCRIBE / UNSUBACK
  std::vector<Subscription> subscriptions;
  std::vector<std::string> unsubscriptions;
  std::vector<uint8_t> granted;
};

/** Builds the structured packet of a decoded frame (src as given by StreamDecoder::Event). */
Packet to_packet(const uint8_t* src, const PacketDesc& desc, const int32_t* records, size_t nwords);

enum class EncodeError : uint8_t {
  None = 0,
  InvalidVarint,   // remaining length or a var property above 268435455
  TooLong,         // a string or binary field longer than 65535 bytes
  InvalidPacket,   // type or version not encodable
};

/**
 * Appends the frame of `p` to `out`, with mqtt-packet's canonical choices (e.g. a v5 PUBACK with
 * reason 0 and no properties omits both; CONNACK/SUBACK/DISCONNECT/AUTH v5 always carry a
 * property length). Properties are written grouped by id in first-seen order, as mqtt-packet writes
 * a parsed packet back.
 */
EncodeError serialize(const Packet& p, std::vector<uint8_t>& out);

/** PUBLISH without properties straight from its parts (the addon's generate fast path). */
EncodeError serialize_publish(const uint8_t* topic, size_t topic_len, const uint8_t* payload, size_t payload_len,
                              uint8_t qos, bool retain, bool dup, int32_t message_id, uint8_t version,
                              std::vector<uint8_t>& out);

/** Size of the PUBLISH frame serialize_publish writes, or 0 when it cannot be encoded. */
size_t publish_frame_size(size_t topic_len, size_t payload_len, uint8_t qos, uint8_t version);
/** Writes that frame into dst (which has publish_frame_size bytes). */
void write_publish(uint8_t* dst, const uint8_t* topic, size_t topic_len, const uint8_t* payload, size_t payload_len,
                   uint8_t qos, bool retain, bool dup, uint16_t message_id, uint8_t version);

}  // namespace tedge::mqtt
