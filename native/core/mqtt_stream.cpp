#include "mqtt_stream.h"

#include <algorithm>
#include <cstring>

#include "cursor.h"

namespace tedge::mqtt {

StreamDecoder::StreamDecoder(Options opts) : opts_(opts) {
  settings_.version = opts.protocol_version;
}

void StreamDecoder::begin_chunk() {
  if (errored_) {
    carry_.clear();
    carry_header_len_ = 0;
    carry_length_ = 0;
    carry_done_ = false;
    errored_ = false;
  }
  pending_ = carried();
  if (!carry_done_ && !carry_.empty()) set_pending_for_carry();
}

void StreamDecoder::set_pending_for_carry() {
  // mqtt-packet consumes the first byte at once and the length bytes once the length is complete.
  pending_ = carry_.empty() ? 0 : carry_.size() - (carry_header_len_ ? carry_header_len_ : 1);
}

StreamDecoder::Next StreamDecoder::fail(ParseError err, uint8_t first_byte, Event& ev, size_t pending) {
  ev.error = err;
  ev.desc = PacketDesc{};
  ev.desc.first_byte = first_byte;
  ev.desc.version = settings_.version;
  ev.desc.bridge = settings_.bridge;
  ev.records_begin = ev.records_end = records_.size();
  errored_ = true;
  pending_ = pending;
  return Next::Error;
}

static ParseError check_first_byte(uint8_t b) {
  uint8_t type = b >> 4;
  int required = required_header_flags(type);
  if (required >= 0 && (b & 15) != required) return ParseError::HeaderFlags;
  if (((b >> 1) & 3) == 3) return ParseError::QosBits;
  return ParseError::None;
}

StreamDecoder::Next StreamDecoder::finish_frame(const uint8_t* src, size_t src_len, size_t start,
                                                size_t header_len, uint32_t length, bool from_carry,
                                                Event& ev) {
  ev.src = src;
  ev.src_len = src_len;
  ev.from_carry = from_carry;
  ev.records_begin = records_.size();
  uint8_t first = src[start];
  ParseError err = decode_body(src, static_cast<uint32_t>(start + header_len), length, first, settings_, ev.desc,
                               records_);
  ev.desc.header_len = static_cast<uint8_t>(header_len);
  ev.records_end = records_.size();
  ev.error = err;
  if (err != ParseError::None) {
    errored_ = true;
    return Next::Error;
  }
  return Next::Packet;
}

StreamDecoder::Next StreamDecoder::next(const uint8_t* data, size_t len, size_t& offset, Event& ev) {
  if (carry_done_) {
    carry_.clear();
    carry_header_len_ = 0;
    carry_length_ = 0;
    carry_done_ = false;
  }
  if (errored_) {
    offset = len;
    return Next::NeedMore;
  }
  if (!carry_.empty()) {
    // Complete the fixed header byte by byte (at most 4 length bytes).
    while (carry_header_len_ == 0) {
      if (offset >= len) {
        set_pending_for_carry();
        return Next::NeedMore;
      }
      carry_.push_back(data[offset++]);
      Cursor c(carry_.data() + 1, carry_.size() - 1);
      uint32_t length;
      size_t n;
      switch (c.varint(length, n)) {
        case Cursor::Varint::Incomplete: continue;
        case Cursor::Varint::Invalid:
          return fail(ParseError::InvalidVarint, carry_[0], ev, carry_.size() - 1 + (len - offset));
        case Cursor::Varint::Ok:
          carry_header_len_ = 1 + n;
          carry_length_ = length;
          if (carry_header_len_ + static_cast<uint64_t>(length) > opts_.max_packet_size) {
            return fail(ParseError::PacketTooLarge, carry_[0], ev, len - offset);
          }
          break;
      }
    }
    size_t total = carry_header_len_ + carry_length_;
    size_t want = total - carry_.size();
    size_t take = std::min(want, len - offset);
    carry_.insert(carry_.end(), data + offset, data + offset + take);
    offset += take;
    if (carry_.size() < total) {
      set_pending_for_carry();
      return Next::NeedMore;
    }
    carry_done_ = true;
    Next r = finish_frame(carry_.data(), carry_.size(), 0, carry_header_len_, carry_length_, true, ev);
    if (r == Next::Error) pending_ = carry_length_ + (len - offset);
    return r;
  }

  if (offset >= len) {
    pending_ = 0;
    return Next::NeedMore;
  }
  size_t start = offset;
  uint8_t first = data[start];
  ParseError err = check_first_byte(first);
  if (err != ParseError::None) return fail(err, first, ev, len - start);
  Cursor c(data + start + 1, len - start - 1);
  uint32_t length = 0;
  size_t n = 0;
  switch (c.varint(length, n)) {
    case Cursor::Varint::Invalid: return fail(ParseError::InvalidVarint, first, ev, len - start - 1);
    case Cursor::Varint::Incomplete:
      carry_.assign(data + start, data + len);
      offset = len;
      set_pending_for_carry();
      return Next::NeedMore;
    case Cursor::Varint::Ok: break;
  }
  size_t header_len = 1 + n;
  if (header_len + static_cast<uint64_t>(length) > opts_.max_packet_size) {
    return fail(ParseError::PacketTooLarge, first, ev, len - start - header_len);
  }
  if (len - start < header_len + length) {
    carry_.assign(data + start, data + len);
    carry_header_len_ = header_len;
    carry_length_ = length;
    offset = len;
    set_pending_for_carry();
    return Next::NeedMore;
  }
  offset = start + header_len + length;
  Next r = finish_frame(data, len, start, header_len, length, false, ev);
  if (r == Next::Error) pending_ = len - start - header_len;
  return r;
}

// ---------------------------------------------------------------------------------------------

TopicInterner::TopicInterner(uint32_t max_entries, uint32_t max_len)
    : max_entries_(max_entries), max_len_(max_len) {
  uint32_t size = 16;
  while (size < max_entries * 2) size <<= 1;
  slots_.resize(size);
}

void TopicInterner::clear() {
  std::fill(slots_.begin(), slots_.end(), Slot{});
  arena_.clear();
  count_ = 0;
}

TopicInterner::Result TopicInterner::intern(const uint8_t* p, uint32_t n) {
  Result r;
  if (n > max_len_ || max_entries_ == 0) return r;
  // Word-at-a-time multiplicative hash: topics are tens of bytes, hashed on every PUBLISH.
  uint64_t acc = 0x9E3779B97F4A7C15ull ^ n;
  uint32_t k = 0;
  for (; k + 8 <= n; k += 8) {
    uint64_t w;
    std::memcpy(&w, p + k, 8);
    acc = (acc ^ w) * 0xFF51AFD7ED558CCDull;
    acc ^= acc >> 29;
  }
  if (k < n) {
    uint64_t w = 0;
    std::memcpy(&w, p + k, n - k);
    acc = (acc ^ w) * 0xC4CEB9FE1A85EC53ull;
    acc ^= acc >> 32;
  }
  uint32_t h = static_cast<uint32_t>(acc ^ (acc >> 32));
  size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.id < 0) break;
    if (s.hash == h && s.len == n && std::memcmp(arena_.data() + s.off, p, n) == 0) {
      r.id = s.id;
      return r;
    }
  }
  if (count_ >= max_entries_) return r;
  size_t i = h & mask;
  while (slots_[i].id >= 0) i = (i + 1) & mask;
  Slot& s = slots_[i];
  s.hash = h;
  s.id = static_cast<int32_t>(count_++);
  s.off = static_cast<uint32_t>(arena_.size());
  s.len = n;
  arena_.insert(arena_.end(), p, p + n);
  r.id = s.id;
  r.is_new = true;
  return r;
}

}  // namespace tedge::mqtt
