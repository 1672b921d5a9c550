// Streaming behaviour that fixtures cannot hold: multi-megabyte frames with a 4-byte length, the
// maximum packet size on the carry path, bounded memory, random input, serializer round trips.
#include <random>

#include "mqtt_fixture_support.h"
#include "mqtt_packet.h"
#include "test.h"

using namespace tedge;
using namespace tedge::mqtt;
using namespace tedge::test;

namespace {

std::vector<uint8_t> publish_frame(const std::string& topic, size_t payload_len, uint8_t qos = 0, uint16_t id = 0) {
  std::string payload(payload_len, 'x');
  std::vector<uint8_t> out;
  serialize_publish(reinterpret_cast<const uint8_t*>(topic.data()), topic.size(),
                    reinterpret_cast<const uint8_t*>(payload.data()), payload.size(), qos, false, false, id, 4, out);
  return out;
}

}  // namespace

TEST("stream: a 2 MiB PUBLISH with a 4-byte remaining length, split at random places") {
  auto frame = publish_frame("big", 2097152);
  CHECK_EQ(frame[1], 0x85);  // 2097157 = 0x85 0x80 0x80 0x01
  CHECK_EQ(frame[4], 0x01);
  std::mt19937 rng(7);
  for (int round = 0; round < 3; round++) {
    std::vector<size_t> cuts;
    for (size_t at = 0; at < frame.size();) {
      at += 1 + rng() % 70000;
      if (at < frame.size()) cuts.push_back(at);
    }
    cuts.insert(cuts.begin(), {1, 2, 3});  // inside the fixed header too
    StreamResult r = run_stream(frame, cuts, {});
    CHECK_EQ(r.packets.size(), 1u);
    CHECK(r.error.empty());
    if (!r.packets.empty()) CHECK_EQ(r.packets[0].num("length"), 2097157.0);
  }
}

TEST("stream: the maximum packet size is enforced as soon as the length is known, also across chunks") {
  auto frame = publish_frame("t", 100);
  StreamDecoder::Options o;
  o.max_packet_size = 50;
  for (size_t cut = 1; cut < 4; cut++) {
    StreamResult r = run_stream(frame, {cut}, o);
    CHECK_EQ(r.error, std::string("Maximum packet size exceeded"));
    CHECK(r.packets.empty());
  }
  o.max_packet_size = static_cast<uint32_t>(frame.size());
  CHECK_EQ(run_stream(frame, {2}, o).packets.size(), 1u);
}

TEST("stream: memory held for an incomplete frame grows with the bytes received, not the announced length") {
  StreamDecoder dec({});
  const uint8_t head[] = {0x30, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x01, 'a'};
  dec.begin_chunk();
  size_t off = 0;
  StreamDecoder::Event ev;
  CHECK(dec.next(head, sizeof head, off, ev) == StreamDecoder::Next::NeedMore);
  CHECK_EQ(dec.carried(), sizeof head);
  CHECK_EQ(dec.mqtt_packet_pending(), 3u);  // mqtt-packet holds the 3 body bytes
}

TEST("stream: after an error the next chunk starts afresh (as mqtt-packet's next parse())") {
  StreamDecoder dec({});
  const uint8_t bad[] = {0x60, 0x02, 0x00, 0x01, 0x30};  // PUBREL with flags 0, then a partial frame
  const uint8_t good[] = {0xc0, 0x00};
  dec.begin_chunk();
  size_t off = 0;
  StreamDecoder::Event ev;
  CHECK(dec.next(bad, sizeof bad, off, ev) == StreamDecoder::Next::Error);
  dec.begin_chunk();
  off = 0;
  CHECK(dec.next(good, sizeof good, off, ev) == StreamDecoder::Next::Packet);
  CHECK_EQ(ev.desc.first_byte, 0xc0);
}

TEST("stream: random bytes never crash, hang or over-read (terminates, consumes input)") {
  std::mt19937 rng(1234);
  for (int round = 0; round < 3000; round++) {
    size_t n = rng() % 300;
    std::vector<uint8_t> data(n);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    if (n && rng() % 5) data[0] = static_cast<uint8_t>((rng() % 16) << 4 | (rng() % 3 == 0 ? 2 : 0));
    StreamDecoder::Options o;
    o.protocol_version = static_cast<uint8_t>(rng() % 2 ? 5 : 4);
    StreamDecoder dec(o);
    dec.begin_chunk();
    size_t off = 0, steps = 0;
    for (;;) {
      StreamDecoder::Event ev;
      size_t before = off;
      auto next = dec.next(data.data(), data.size(), off, ev);
      if (next != StreamDecoder::Next::Packet) break;
      CHECK(off > before);
      CHECK(ev.records_end <= dec.records().size());
      if (++steps > n + 1) {
        CHECK(false);
        break;
      }
    }
  }
}

TEST("serializer: every packet type in 3.1.1 and 5.0 round-trips through the decoder") {
  std::vector<Packet> packets;
  for (uint8_t version : {4, 5}) {
    Packet c;
    c.type = 1;
    c.version = version;
    c.protocol_level = version;
    c.connect_flags = 0xC6;
    c.keepalive = 30;
    c.client_id = "cid";
    c.will_topic = "w";
    c.will_payload = "bye";
    c.username = "u";
    c.password = "p";
    if (version == 5) {
      Property p;
      p.id = 17;
      p.number = 10;
      c.properties.push_back(p);
      Property up;
      up.id = 38;
      up.name = "k";
      up.value = "v";
      c.will_properties.push_back(up);
    }
    packets.push_back(c);
    for (uint8_t type = 2; type <= 15; type++) {
      if (type == 15 && version != 5) continue;
      Packet p;
      p.type = type;
      p.version = version;
      p.message_id = 7;
      p.flags = type == 6 || type == 8 || type == 10 ? 2 : type == 3 ? 0x0B : 0;
      p.topic = "a/b";
      p.payload = "payload";
      p.reason_code = type == 15 ? 0x18 : (type >= 4 && type <= 7) ? 0x10 * (type < 6) : 0;
      p.return_code = 0;
      p.session_present = true;
      p.subscriptions = {{"x/#", 1}, {"y", 2}};
      p.unsubscriptions = {"x/#"};
      p.granted = {type == 9 ? uint8_t{1} : uint8_t{0}};
      if (version == 5 && type != 12 && type != 13) {
        Property rs;
        rs.id = 31;
        rs.value = "why";
        p.properties.push_back(rs);
        p.has_properties = true;
      }
      packets.push_back(p);
    }
  }
  for (const Packet& p : packets) {
    CONTEXT(std::string(packet_type_name(p.type)) + " v" + std::to_string(p.version));
    std::vector<uint8_t> bytes;
    CHECK(serialize(p, bytes) == EncodeError::None);
    StreamDecoder::Options o;
    o.protocol_version = p.version;
    StreamDecoder dec(o);
    dec.begin_chunk();
    size_t off = 0;
    StreamDecoder::Event ev;
    auto next = dec.next(bytes.data(), bytes.size(), off, ev);
    CHECK(next == StreamDecoder::Next::Packet);
    if (next != StreamDecoder::Next::Packet) {
      fail(__FILE__, __LINE__, error_message(ev));
      continue;
    }
    CHECK_EQ(off, bytes.size());
    Packet back = to_packet(ev.src, ev.desc, dec.records().data() + ev.records_begin, ev.records_end - ev.records_begin);
    back.version = p.version;
    std::vector<uint8_t> again;
    CHECK(serialize(back, again) == EncodeError::None);
    CHECK(again == bytes);
  }
}

TEST("serializer: the PUBLISH fast path writes what serialize() writes") {
  for (uint8_t version : {3, 4, 5}) {
    for (uint8_t qos : {0, 1, 2}) {
      Packet p;
      p.type = 3;
      p.version = version;
      p.flags = static_cast<uint8_t>(qos << 1 | 1);
      p.topic = "te/device/main///m/";
      p.payload = std::string(300, 'z');
      p.message_id = 513;
      p.has_properties = version == 5;
      std::vector<uint8_t> a, b;
      CHECK(serialize(p, a) == EncodeError::None);
      CHECK(serialize_publish(reinterpret_cast<const uint8_t*>(p.topic.data()), p.topic.size(),
                              reinterpret_cast<const uint8_t*>(p.payload.data()), p.payload.size(), qos, true, false,
                              513, version, b) == EncodeError::None);
      CHECK(a == b);
    }
  }
  std::vector<uint8_t> out;
  std::string long_topic(70000, 't');
  CHECK(serialize_publish(reinterpret_cast<const uint8_t*>(long_topic.data()), long_topic.size(), nullptr, 0, 0, false,
                          false, 0, 4, out) == EncodeError::TooLong);
}

TEST("topic interner: ids are stable, new ones flagged; a full table interns no more until cleared") {
  TopicInterner t(3, 8);
  auto a = t.intern(reinterpret_cast<const uint8_t*>("a/b"), 3);
  CHECK(a.is_new);
  CHECK_EQ(a.id, 0);
  auto again = t.intern(reinterpret_cast<const uint8_t*>("a/b"), 3);
  CHECK(!again.is_new);
  CHECK_EQ(again.id, 0);
  CHECK_EQ(t.intern(reinterpret_cast<const uint8_t*>("c"), 1).id, 1);
  CHECK_EQ(t.intern(reinterpret_cast<const uint8_t*>("d"), 1).id, 2);
  CHECK_EQ(t.intern(reinterpret_cast<const uint8_t*>("e"), 1).id, -1);
  CHECK_EQ(t.intern(reinterpret_cast<const uint8_t*>("c"), 1).id, 1);
  t.clear();
  auto e = t.intern(reinterpret_cast<const uint8_t*>("e"), 1);
  CHECK(e.is_new);
  CHECK_EQ(e.id, 0);
  CHECK_EQ(t.intern(reinterpret_cast<const uint8_t*>("too/long/topic"), 14).id, -1);
}
