// test/fixtures/mqtt/*.json (shared with the TS tests): every frame is parsed whole, byte by byte and
// split at every position; the packets, the error message and mqtt-packet's parse() return value must
// match the fixture; frames that mqtt-packet regenerates byte for byte must serialize back to themselves.
#include <random>

#include "mqtt_fixture_support.h"
#include "mqtt_packet.h"
#include "test.h"

using namespace tedge;
using namespace tedge::test;

namespace {

std::vector<Json> load_cases() {
  std::vector<Json> cases;
  std::string dir = fixture_dir("TEDGE_FIXTURES_DIR", TEDGE_FIXTURES_DIR) + "/mqtt";
  auto files = list_files(dir, ".json");
  CHECK(files.size() >= 8);
  for (const auto& f : files) {
    Json doc;
    CHECK(parse_json(read_file(f), doc));
    if (const Json* list = doc.get("cases"))
      for (const Json& c : list->items) cases.push_back(c);
  }
  return cases;
}

mqtt::StreamDecoder::Options options(const Json& c) {
  mqtt::StreamDecoder::Options o;
  o.protocol_version = static_cast<uint8_t>(c.num("protocolVersion", 0));
  if (const Json* m = c.get("maxPacketSize")) o.max_packet_size = static_cast<uint32_t>(m->n);
  return o;
}

void check_result(const Json& c, const StreamResult& r, bool check_pending) {
  const Json* expected = c.get("packets");
  CHECK(expected != nullptr);
  if (!expected) return;
  CHECK_EQ(r.packets.size(), expected->items.size());
  for (size_t i = 0; i < r.packets.size() && i < expected->items.size(); i++) {
    Json want = normalise_buffers(expected->items[i]);
    if (!json_equal(r.packets[i], want)) {
      fail(__FILE__, __LINE__, "packet " + std::to_string(i) + "\n    actual:   " + r.packets[i].dump() +
                                   "\n    expected: " + want.dump());
    }
  }
  CHECK_EQ(r.error, c.str("error"));
  if (check_pending && c.get("pending")) CHECK_EQ(static_cast<double>(r.pending), c.num("pending"));
}

}  // namespace

TEST("mqtt fixtures: parse whole frames") {
  for (const Json& c : load_cases()) {
    CONTEXT(c.str("name"));
    auto bytes = frame_bytes(*c.get("frame"));
    check_result(c, run_stream(bytes, {}, options(c)), true);
  }
}

TEST("mqtt fixtures: frames split at every position and byte by byte") {
  std::mt19937 rng(42);
  for (const Json& c : load_cases()) {
    CONTEXT(c.str("name"));
    auto bytes = frame_bytes(*c.get("frame"));
    std::vector<size_t> every;
    for (size_t i = 1; i < bytes.size(); i++) every.push_back(i);
    if (bytes.size() <= 600) {
      check_result(c, run_stream(bytes, every, options(c)), false);
      for (size_t cut = 1; cut < bytes.size(); cut++) check_result(c, run_stream(bytes, {cut}, options(c)), false);
    } else {
      for (int k = 0; k < 50; k++) {
        std::vector<size_t> cuts;
        for (size_t i = 1; i < bytes.size(); i++)
          if (rng() % 997 == 0) cuts.push_back(i);
        check_result(c, run_stream(bytes, cuts, options(c)), false);
      }
    }
  }
}

TEST("mqtt fixtures: what mqtt-packet regenerates byte for byte, serialize() does too") {
  int checked = 0;
  for (const Json& c : load_cases()) {
    const Json* g = c.get("generate");
    if (!g || g->kind != Json::Bool || !g->b) continue;
    CONTEXT(c.str("name"));
    auto bytes = frame_bytes(*c.get("frame"));
    mqtt::StreamDecoder dec(options(c));
    dec.begin_chunk();
    size_t off = 0;
    mqtt::StreamDecoder::Event ev;
    CHECK(dec.next(bytes.data(), bytes.size(), off, ev) == mqtt::StreamDecoder::Next::Packet);
    auto& r = dec.records();
    mqtt::Packet p = mqtt::to_packet(ev.src, ev.desc, r.data() + ev.records_begin, ev.records_end - ev.records_begin);
    std::vector<uint8_t> out;
    CHECK(mqtt::serialize(p, out) == mqtt::EncodeError::None);
    CHECK(out == bytes);
    checked++;
  }
  CHECK(checked >= 40);
}
