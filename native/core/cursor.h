// A bounds-checked reader over a byte range (mosquitto's packet__read_* idea): every read checks
// the remaining length first and leaves its output untouched on failure.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tedge {

class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  size_t pos() const { return pos_; }
  size_t size() const { return size_; }
  size_t remaining() const { return size_ - pos_; }
  bool at_end() const { return pos_ >= size_; }
  const uint8_t* data() const { return data_; }
  void seek(size_t pos) { pos_ = pos < size_ ? pos : size_; }

  bool u8(uint8_t& out) {
    if (remaining() < 1) return false;
    out = data_[pos_++];
    return true;
  }
  bool u16(uint16_t& out) {
    if (remaining() < 2) return false;
    out = static_cast<uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool u32(uint32_t& out) {
    if (remaining() < 4) return false;
    out = (static_cast<uint32_t>(data_[pos_]) << 24) | (static_cast<uint32_t>(data_[pos_ + 1]) << 16) |
          (static_cast<uint32_t>(data_[pos_ + 2]) << 8) | static_cast<uint32_t>(data_[pos_ + 3]);
    pos_ += 4;
    return true;
  }
  /** Skips n bytes; false (and no move) when fewer remain. */
  bool skip(size_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }

  enum class Varint { Ok, Incomplete, Invalid };
  /**
   * MQTT variable byte integer: at most 4 bytes. A continuation bit on the 4th byte is Invalid
   * (the "5th byte" case); running out of input is Incomplete. Overlong encodings (0x80 0x00) are
   * accepted, as mqtt-packet does. On Incomplete the cursor is left at the end of the input.
   */
  Varint varint(uint32_t& out, size_t& nbytes) {
    uint32_t value = 0;
    uint32_t mul = 1;
    for (size_t i = 0; i < 4; i++) {
      if (pos_ >= size_) {
        nbytes = i;
        return Varint::Incomplete;
      }
      uint8_t b = data_[pos_++];
      value += (b & 0x7fu) * mul;
      mul <<= 7;
      if ((b & 0x80u) == 0) {
        out = value;
        nbytes = i + 1;
        return Varint::Ok;
      }
    }
    nbytes = 4;
    return Varint::Invalid;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace tedge
