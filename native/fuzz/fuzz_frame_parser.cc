// libFuzzer harness for the streaming MQTT frame parser (ASan + UBSan).
// Input: byte 0 picks the protocol version and the maximum packet size, byte 1 the chunk size;
// the rest is the stream. Properties checked on every input:
//  * no crash, no over-read (sanitizers), every call makes progress;
//  * every offset a decoded packet points at lies inside its source;
//  * the stream cut into chunks decodes to the same packets and error as the stream whole;
//  * serialize() of a decoded packet is a fixed point: parse(serialize(p)) serializes to the same bytes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "mqtt_packet.h"
#include "mqtt_stream.h"

using namespace tedge::mqtt;

namespace {

struct Outcome {
  std::vector<std::vector<uint8_t>> packets;  // canonical bytes of each packet
  int error = 0;
};

void check(bool ok) {
  if (!ok) std::abort();
}

void record(const StreamDecoder::Event& ev, const std::vector<int32_t>& recs, Outcome& out, uint8_t version) {
  const PacketDesc& d = ev.desc;
  size_t end = d.body + d.remaining_length;
  check(end <= ev.src_len);
  check(ev.records_end <= recs.size() && ev.records_begin <= ev.records_end && (ev.records_end - ev.records_begin) % 3 == 0);
  if ((d.first_byte >> 4) == 3) {
    check(d.topic_off >= d.body && d.topic_off + d.topic_len <= end);
    check(d.payload_off >= d.body && d.payload_off + d.payload_len == end);
  }
  for (size_t i = ev.records_begin; i < ev.records_end; i += 3) {
    int32_t tag = recs[i] & 0xff;
    bool span = tag == kRecPropString || tag == kRecPropBinary || tag == kRecPropPairName || tag == kRecPropPairValue ||
                (tag >= kRecProtocolId && tag != kRecProtocolVersion && tag != kRecConnectFlags && tag != kRecKeepalive &&
                 tag != kRecGranted);
    if (span && recs[i + 2] >= 0) {
      check(static_cast<size_t>(recs[i + 1]) >= d.body && static_cast<size_t>(recs[i + 1]) + recs[i + 2] <= end);
    }
  }
  Packet p = to_packet(ev.src, d, recs.data() + ev.records_begin, ev.records_end - ev.records_begin);
  std::vector<uint8_t> bytes;
  if (serialize(p, bytes) != EncodeError::None) {
    out.packets.push_back({});
    return;
  }
  out.packets.push_back(bytes);
  // Fixed point: the canonical form decodes and re-encodes to itself.
  StreamDecoder::Options o;
  o.protocol_version = p.type == 1 ? 0 : (p.version == 5 ? 5 : version == 3 ? 3 : 4);
  if (p.type != 1 && d.bridge) return;  // bridge mode comes from a CONNECT earlier in the stream
  StreamDecoder again(o);
  again.begin_chunk();
  size_t off = 0;
  StreamDecoder::Event ev2;
  check(again.next(bytes.data(), bytes.size(), off, ev2) == StreamDecoder::Next::Packet);
  check(off == bytes.size());
  Packet p2 = to_packet(ev2.src, ev2.desc, again.records().data() + ev2.records_begin, ev2.records_end - ev2.records_begin);
  std::vector<uint8_t> bytes2;
  check(serialize(p2, bytes2) == EncodeError::None);
  check(bytes2 == bytes);
}

Outcome run(const uint8_t* data, size_t size, StreamDecoder::Options opts, size_t chunk) {
  Outcome out;
  StreamDecoder dec(opts);
  for (size_t start = 0; start < size || start == 0; start += chunk) {
    size_t len = std::min(chunk, size - start);
    dec.begin_chunk();
    dec.clear_records();
    size_t off = 0;
    for (;;) {
      StreamDecoder::Event ev;
      size_t before = off;
      auto next = dec.next(data + start, len, off, ev);
      if (next == StreamDecoder::Next::NeedMore) break;
      if (next == StreamDecoder::Next::Error) {
        out.error = static_cast<int>(ev.error);
        return out;
      }
      check(off > before || ev.from_carry);
      record(ev, dec.records(), out, opts.protocol_version);
    }
    if (size == 0) break;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static const uint8_t versions[] = {0, 3, 4, 5};
  StreamDecoder::Options opts;
  opts.protocol_version = versions[data[0] & 3];
  if (data[0] & 4) opts.max_packet_size = 64 + (data[0] >> 3) * 16;
  size_t chunk = 1 + data[1] % 64;
  const uint8_t* stream = data + 2;
  size_t n = size - 2;
  Outcome whole = run(stream, n, opts, n == 0 ? 1 : n);
  Outcome chunked = run(stream, n, opts, chunk);
  check(whole.error == chunked.error);
  check(whole.packets == chunked.packets);
  return 0;
}
