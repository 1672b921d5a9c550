// Helpers shared by the MQTT host tests: annotated-hex frames, and the mqtt-packet-shaped view of a
// decoded packet (the C++ mirror of src/native/packet-materializer.ts), as a JSON DOM.
#pragma once

#include <string>
#include <vector>

#include "json_dom.h"
#include "mqtt_stream.h"

namespace tedge::test {

/** "30 0a  # comment" lines → bytes; "XX*N" repeats byte XX N times. */
std::vector<uint8_t> frame_bytes(const Json& lines);

/** The fixture's Buffer encodings ({"$utf8"}, {"$hex"}, {"$fill"}) rewritten as {"$hex"}. */
Json normalise_buffers(const Json& v);

/** The packet object mqtt-packet would emit for this decoded frame (Buffers as {"$hex"}). */
Json render_packet(const mqtt::StreamDecoder::Event& ev, const std::vector<int32_t>& records);

std::string error_message(const mqtt::StreamDecoder::Event& ev);

struct StreamResult {
  std::vector<Json> packets;
  std::string error;
  size_t pending = 0;
};

/** Feeds `bytes` in chunks ending at `cuts` (ascending, exclusive ends) through a fresh decoder. */
StreamResult run_stream(const std::vector<uint8_t>& bytes, const std::vector<size_t>& cuts,
                        mqtt::StreamDecoder::Options opts);

}  // namespace tedge::test
