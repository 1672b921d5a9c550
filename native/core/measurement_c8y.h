// One pass from a Thin Edge JSON measurement payload (bytes) to the Cumulocity measurement JSON
// (bytes), accepting and rejecting exactly what the TypeScript path does:
//   payloadText (strict UTF-8, BOM dropped) → parseJson (depth ≤ 64, JSON.parse) →
//   measurementFromJson (src/core/measurement.ts) → toC8yMeasurement (src/mapper/c8y/measurements.ts)
// with the same error messages, and byte-identical output (JSON.stringify layout, ECMAScript number
// formatting, JSON.stringify string escaping).
//
// Where reproducing JavaScript exactly is not worth it, convert() returns ConvertStatus::Fallback
// and the caller runs the TypeScript path for that payload (see status.h and the list in the .cpp).
// Syntax errors return ConvertStatus::Syntax: their wording is V8's, so the caller asks JSON.parse.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "status.h"

namespace tedge {

/** Units by series key ("temperature", "Climate.Humidity"), each stored as its JSON text ("\"°C\""). */
class UnitTable {
 public:
  void set(const std::string& key, const std::string& unit_json);
  const std::string* find(const uint8_t* key, size_t n) const;
  bool empty() const { return count_ == 0; }

 private:
  struct Entry {
    std::string key, unit_json;
    uint32_t hash = 0;
    bool used = false;
  };
  static uint32_t hash(const uint8_t* p, size_t n);
  void grow();
  std::vector<Entry> slots_;
  size_t count_ = 0;
};

struct C8yContext {
  /** JSON of the type used when the payload has none: the topic's type or "ThinEdgeMeasurement". */
  std::string default_type_json;
  /** JSON of ctx.externalSource (an object), or empty when there is none. */
  std::string external_source_json;
  UnitTable units;
};

class MeasurementConverter {
 public:
  /**
   * Converts `payload`; on Ok, `out` is the Cumulocity JSON; on Invalid, `error` is the message of the
   * ConversionError the TS path throws. `now_ms` is ctx.now.getTime(), used when the payload has no time.
   */
  ConvertStatus convert(const uint8_t* payload, size_t n, const C8yContext& ctx, double now_ms, std::string& out,
                        std::string& error);

 private:
  struct Str {
    const uint8_t* p = nullptr;
    size_t n = 0;
    /** Taken as it is from the input (no escapes): its JSON form is the input's quoted bytes. */
    bool plain = false;
    bool eq(const char* s) const;
  };
  struct PropEntry {
    Str key;
    size_t begin, end;  // the `"key":value` text in props_
  };

  // Scanner
  void ws();
  /** Skips whitespace, then consumes `c` when it is the next byte. */
  bool eat(uint8_t c);
  /** eat(c), else a syntax error. */
  bool expect(uint8_t c);
  /** Skips whitespace; a syntax error at the end of the input. */
  bool value_start();
  bool lit(const char* word, size_t n);
  bool copy_lit(std::string& out, const char* word, size_t n);  // lit(), then appends the word
  bool string(Str& out);
  bool number(double& v, const uint8_t*& tok, size_t& tok_len, bool need_value = true);
  /** JSON.stringify of a string: its quoted input bytes when plain. */
  static void append_string(std::string& out, const Str& s);
  bool skip_value(int depth);
  bool copy_value(std::string& out, int depth);  // re-serializes as JSON.parse + JSON.stringify would
  bool key_fallback(const Str& key, std::vector<Str>& seen, size_t seen_from);
  /** An object member up to its value: the key (checked by key_fallback against keys_ from seen_from), then ':'. */
  bool member_key(Str& key, size_t seen_from);
  bool enter(int depth);

  // Semantics
  bool top_level(const C8yContext& ctx);
  bool time_value();
  bool group(const Str& name, const C8yContext& ctx);
  static void append_member_path(std::string& out, const Str& name, const Str& member);
  void set_error(std::string msg);
  void type_name(std::string& out, char kind, const Str& s, double v);
  /** Appends {"value":v[,"unit":u]}; false (nothing appended) when the number is out of range. */
  bool append_value_fragment(std::string& out, const uint8_t* tok, size_t tok_len, const std::string* unit);
  /** The double JSON.parse gives for a checked token: ±Infinity on overflow, ±0 on underflow. */
  static double number_value(const uint8_t* tok, size_t len);
  bool value_kind(char& kind);

  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  bool syntax_ = false;
  bool depth_error_ = false;
  bool fallback_ = false;
  bool has_error_ = false;
  std::string error_;
  double now_ms_ = 0;

  std::deque<std::string> arena_;  // decoded strings with escapes (stable addresses)
  size_t arena_used_ = 0;
  std::vector<Str> keys_;          // keys of the objects being parsed, for duplicate detection
  std::vector<Str> series_names_;
  std::string series_;
  std::string props_;
  std::vector<PropEntry> prop_entries_;
  bool has_props_object_ = false;
  std::string type_json_;
  bool has_type_ = false;
  std::string time_json_;
  bool has_time_ = false;
  std::string scratch_;
  std::string key_scratch_;
};

}  // namespace tedge
