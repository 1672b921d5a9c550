// The cursor and varint primitives; like mosquitto's datatype tests, outputs are pre-filled with
// sentinels to prove that nothing is written on failure.
#include "cursor.h"
#include "test.h"

using tedge::Cursor;

TEST("cursor: reads check bounds and leave outputs untouched on failure") {
  const uint8_t data[] = {0x01, 0x02, 0x03};
  Cursor c(data, 3);
  uint32_t u32 = 0xDEADBEEF;
  CHECK(!c.u32(u32));
  CHECK_EQ(u32, 0xDEADBEEFu);
  CHECK_EQ(c.pos(), 0u);
  uint16_t u16 = 0xBEEF;
  CHECK(c.u16(u16));
  CHECK_EQ(u16, 0x0102);
  CHECK(!c.u16(u16));
  CHECK_EQ(u16, 0x0102);
  uint8_t u8 = 0;
  CHECK(c.u8(u8));
  CHECK_EQ(u8, 3);
  CHECK(!c.u8(u8));
  CHECK(!c.skip(1));
  CHECK(c.at_end());
}

TEST("cursor: variable byte integers, 1 to 4 bytes, and the malformed 5th byte") {
  struct Row {
    std::vector<uint8_t> bytes;
    Cursor::Varint status;
    uint32_t value;
    size_t n;
  };
  const Row rows[] = {
      {{0x00}, Cursor::Varint::Ok, 0, 1},
      {{0x7f}, Cursor::Varint::Ok, 127, 1},
      {{0x80, 0x01}, Cursor::Varint::Ok, 128, 2},
      {{0xff, 0x7f}, Cursor::Varint::Ok, 16383, 2},
      {{0x80, 0x80, 0x01}, Cursor::Varint::Ok, 16384, 3},
      {{0xff, 0xff, 0x7f}, Cursor::Varint::Ok, 2097151, 3},
      {{0x80, 0x80, 0x80, 0x01}, Cursor::Varint::Ok, 2097152, 4},
      {{0xff, 0xff, 0xff, 0x7f}, Cursor::Varint::Ok, 268435455, 4},
      {{0x80, 0x00}, Cursor::Varint::Ok, 0, 2},  // overlong, accepted as mqtt-packet does
      {{0xff, 0xff, 0xff, 0xff, 0x01}, Cursor::Varint::Invalid, 0xDEADBEEF, 4},
      {{0x80, 0x80, 0x80, 0x80}, Cursor::Varint::Invalid, 0xDEADBEEF, 4},
      {{0x80}, Cursor::Varint::Incomplete, 0xDEADBEEF, 1},
      {{}, Cursor::Varint::Incomplete, 0xDEADBEEF, 0},
      {{0xff, 0xff, 0xff}, Cursor::Varint::Incomplete, 0xDEADBEEF, 3},
  };
  for (const auto& row : rows) {
    Cursor c(row.bytes.data(), row.bytes.size());
    uint32_t v = 0xDEADBEEF;
    size_t n = 99;
    CHECK(c.varint(v, n) == row.status);
    CHECK_EQ(v, row.value);
    CHECK_EQ(n, row.n);
  }
}
