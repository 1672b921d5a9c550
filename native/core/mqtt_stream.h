// Streaming MQTT framing: chunks in, complete frames out, decoded by mqtt_decoder. A frame that is
// split across chunks (anywhere: in the header, the length, the body) is carried in an internal buffer
// that grows only with the bytes actually received, up to the maximum packet size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "mqtt_decoder.h"

namespace tedge::mqtt {

class StreamDecoder {
 public:
  struct Options {
    uint8_t protocol_version = 0;  // 3, 4, 5, or 0 = not given (mqtt-packet without opts)
    uint32_t max_packet_size = kVarintMax + 5;  // whole frame, fixed header included
  };

  enum class Next { Packet, Error, NeedMore };

  struct Event {
    PacketDesc desc;
    const uint8_t* src = nullptr;  // the chunk, or the carry buffer: valid until the next call
    size_t src_len = 0;
    bool from_carry = false;
    size_t records_begin = 0;      // word index into records()
    size_t records_end = 0;
    ParseError error = ParseError::None;
  };

  explicit StreamDecoder(Options opts);

  /**
   * Call at the start of every new chunk: after an error, the state is reset here (as mqtt-packet
   * does on its next parse() call), so the bytes held from before the error are dropped.
   */
  void begin_chunk();

  /** Decodes the next packet from data[offset, len); advances offset past what it consumed. */
  Next next(const uint8_t* data, size_t len, size_t& offset, Event& ev);

  std::vector<int32_t>& records() { return records_; }
  void clear_records() { records_.clear(); }

  /** What mqtt-packet's parse() returns at this point: the bytes its buffer list still holds. */
  size_t mqtt_packet_pending() const { return pending_; }
  /** Bytes of an incomplete frame held between chunks. */
  size_t carried() const { return carry_done_ ? 0 : carry_.size(); }
  const Settings& settings() const { return settings_; }

 private:
  Next fail(ParseError err, uint8_t first_byte, Event& ev, size_t pending);
  Next finish_frame(const uint8_t* src, size_t src_len, size_t start, size_t header_len, uint32_t length,
                    bool from_carry, Event& ev);
  void set_pending_for_carry();

  Options opts_;
  Settings settings_;
  std::vector<int32_t> records_;
  std::vector<uint8_t> carry_;
  size_t carry_header_len_ = 0;  // 0 until the remaining length is known
  uint32_t carry_length_ = 0;
  bool carry_done_ = false;
  bool errored_ = false;
  size_t pending_ = 0;
};

/**
 * Maps topic bytes to small integer ids so a JS consumer decodes each distinct topic once. Bounded:
 * when full, new topics are not interned (id -1); the owner clears it between batches (and tells
 * the consumer to drop its table too), never in the middle of one.
 */
class TopicInterner {
 public:
  struct Result {
    int32_t id = -1;  // -1: not interned (too long, or the table is full)
    bool is_new = false;
  };
  explicit TopicInterner(uint32_t max_entries = 1024, uint32_t max_len = 256);
  Result intern(const uint8_t* p, uint32_t n);
  uint32_t size() const { return count_; }
  uint32_t capacity() const { return max_entries_; }
  void clear();

 private:
  struct Slot {
    uint32_t hash = 0;
    int32_t id = -1;
    uint32_t off = 0, len = 0;
  };
  uint32_t max_entries_, max_len_;
  uint32_t count_ = 0;
  std::vector<Slot> slots_;
  std::vector<uint8_t> arena_;
};

}  // namespace tedge::mqtt
