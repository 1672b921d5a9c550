#include "measurement_c8y.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "js_format.h"
#include "timestamp.h"

// When the converter returns ConvertStatus::Fallback (the TS path converts that payload instead):
//  * a duplicate key in any object: JSON.parse keeps the last value at the first key's position;
//  * an integer-like key ("0", "17"): V8 enumerates those first, in numeric order, not in input order;
//  * a "__proto__" key, or a `properties` key that Object.prototype has ("toString", ...): the TS
//    converter's `out[key] = ...` and `key in out` see the prototype;
//  * a lone surrogate (from a \ud800 escape) in a key: it cannot be matched against units passed as
//    UTF-8 nor put in a UTF-8 error message;
//  * an object with more than 128 keys (duplicate detection is a linear scan);
//  * a `time` string with a lower-case 't' or 'z': V8 hands those to its legacy date parser.

namespace tedge {
namespace {

constexpr int kMaxDepth = 64;  // src/core/json.ts MAX_JSON_DEPTH
constexpr size_t kMaxKeysPerObject = 128;

const char* const kObjectPrototypeNames[] = {
    "constructor",    "__defineGetter__", "__defineSetter__",     "hasOwnProperty", "__lookupGetter__",
    "__lookupSetter__", "isPrototypeOf",  "propertyIsEnumerable", "toString",       "valueOf",
    "__proto__",      "toLocaleString"};

bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

bool integer_like(const uint8_t* p, size_t n) {
  if (n == 0 || n > 10) return false;
  for (size_t i = 0; i < n; i++)
    if (!is_digit(p[i])) return false;
  return true;  // over-approximates array indices (leading zeros, > 2^32-2): only costs a fallback
}

bool hex4(const uint8_t*& p, const uint8_t* end, uint32_t& out) {
  if (end - p < 4) return false;
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    uint8_t c = p[i];
    uint32_t d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return false;
    v = (v << 4) | d;
  }
  p += 4;
  out = v;
  return true;
}

void append(std::string& out, const uint8_t* p, size_t n) { out.append(reinterpret_cast<const char*>(p), n); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// UnitTable

uint32_t UnitTable::hash(const uint8_t* p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}

void UnitTable::grow() {
  std::vector<Entry> old;
  old.swap(slots_);
  slots_.resize(old.empty() ? 16 : old.size() * 2);
  count_ = 0;
  for (auto& e : old)
    if (e.used) set(e.key, e.unit_json);
}

void UnitTable::set(const std::string& key, const std::string& unit_json) {
  if ((count_ + 1) * 2 > slots_.size()) grow();
  auto p = reinterpret_cast<const uint8_t*>(key.data());
  uint32_t h = hash(p, key.size());
  size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    Entry& e = slots_[i];
    if (!e.used) {
      e.used = true;
      e.key = key;
      e.unit_json = unit_json;
      e.hash = h;
      count_++;
      return;
    }
    if (e.hash == h && e.key == key) {
      e.unit_json = unit_json;
      return;
    }
  }
}

const std::string* UnitTable::find(const uint8_t* key, size_t n) const {
  if (count_ == 0) return nullptr;
  uint32_t h = hash(key, n);
  size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Entry& e = slots_[i];
    if (!e.used) return nullptr;
    if (e.hash == h && e.key.size() == n && std::memcmp(e.key.data(), key, n) == 0) return &e.unit_json;
  }
}

// ---------------------------------------------------------------------------------------------
// Scanner

bool MeasurementConverter::Str::eq(const char* s) const {
  size_t len = std::strlen(s);
  return len == n && std::memcmp(p, s, n) == 0;
}

void MeasurementConverter::ws() {
  while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
}

bool MeasurementConverter::eat(uint8_t c) {
  ws();
  if (p_ < end_ && *p_ == c) {
    ++p_;
    return true;
  }
  return false;
}

bool MeasurementConverter::expect(uint8_t c) {
  if (eat(c)) return true;
  syntax_ = true;
  return false;
}

bool MeasurementConverter::value_start() {
  ws();
  if (p_ >= end_) {
    syntax_ = true;
    return false;
  }
  return true;
}

bool MeasurementConverter::enter(int depth) {
  if (depth > kMaxDepth) {
    depth_error_ = true;
    return false;
  }
  return true;
}

bool MeasurementConverter::lit(const char* word, size_t n) {
  if (static_cast<size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0) {
    syntax_ = true;
    return false;
  }
  p_ += n;
  return true;
}

bool MeasurementConverter::copy_lit(std::string& out, const char* word, size_t n) {
  if (!lit(word, n)) return false;
  out.append(word, n);
  return true;
}

bool MeasurementConverter::string(Str& out) {
  if (p_ >= end_ || *p_ != '"') {
    syntax_ = true;
    return false;
  }
  const uint8_t* start = ++p_;
  while (p_ < end_) {
    uint8_t c = *p_;
    if (c == '"') {
      out.p = start;
      out.n = static_cast<size_t>(p_ - start);
      // Plain when nothing in it needs escaping (0x7F and non-ASCII are written as they are).
      out.plain = true;
      ++p_;
      return true;
    }
    if (c == '\\' || c < 0x20) break;
    ++p_;
  }
  if (p_ >= end_ || *p_ < 0x20) {
    syntax_ = true;
    return false;
  }
  // Escapes: decode into a stable arena string (WTF-8 for lone surrogates).
  if (arena_used_ == arena_.size()) arena_.emplace_back();
  std::string& s = arena_[arena_used_++];
  s.assign(reinterpret_cast<const char*>(start), static_cast<size_t>(p_ - start));
  for (;;) {
    if (p_ >= end_) {
      syntax_ = true;
      return false;
    }
    uint8_t c = *p_;
    if (c == '"') {
      ++p_;
      break;
    }
    if (c < 0x20) {
      syntax_ = true;
      return false;
    }
    if (c != '\\') {
      s += static_cast<char>(c);
      ++p_;
      continue;
    }
    if (++p_ >= end_) {
      syntax_ = true;
      return false;
    }
    switch (*p_++) {
      case '"': s += '"'; break;
      case '\\': s += '\\'; break;
      case '/': s += '/'; break;
      case 'b': s += '\b'; break;
      case 'f': s += '\f'; break;
      case 'n': s += '\n'; break;
      case 'r': s += '\r'; break;
      case 't': s += '\t'; break;
      case 'u': {
        uint32_t u;
        if (!hex4(p_, end_, u)) {
          syntax_ = true;
          return false;
        }
        if (u >= 0xD800 && u <= 0xDBFF && end_ - p_ >= 6 && p_[0] == '\\' && p_[1] == 'u') {
          const uint8_t* save = p_;
          p_ += 2;
          uint32_t lo;
          if (hex4(p_, end_, lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
            append_utf8(s, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
            break;
          }
          p_ = save;
        }
        append_wtf8_unit(s, u);
        break;
      }
      default: syntax_ = true; return false;
    }
  }
  out.p = reinterpret_cast<const uint8_t*>(s.data());
  out.n = s.size();
  out.plain = false;
  return true;
}

void MeasurementConverter::append_string(std::string& out, const Str& s) {
  if (s.plain) {
    out.append(reinterpret_cast<const char*>(s.p - 1), s.n + 2);  // the quotes are in the input too
  } else {
    append_json_string(out, s.p, s.n);
  }
}

bool MeasurementConverter::number(double& v, const uint8_t*& tok, size_t& tok_len, bool need_value) {
  const uint8_t* start = p_;
  if (p_ < end_ && *p_ == '-') ++p_;
  if (p_ >= end_) {
    syntax_ = true;
    return false;
  }
  if (*p_ == '0') {
    ++p_;
  } else if (*p_ >= '1' && *p_ <= '9') {
    while (p_ < end_ && is_digit(*p_)) ++p_;
  } else {
    syntax_ = true;
    return false;
  }
  if (p_ < end_ && *p_ == '.') {
    ++p_;
    if (p_ >= end_ || !is_digit(*p_)) {
      syntax_ = true;
      return false;
    }
    while (p_ < end_ && is_digit(*p_)) ++p_;
  }
  if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
    ++p_;
    if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
    if (p_ >= end_ || !is_digit(*p_)) {
      syntax_ = true;
      return false;
    }
    while (p_ < end_ && is_digit(*p_)) ++p_;
  }
  tok = start;
  tok_len = static_cast<size_t>(p_ - start);
  if (need_value) v = number_value(tok, tok_len);
  return true;
}

double MeasurementConverter::number_value(const uint8_t* tok, size_t len) {
  const char* first = reinterpret_cast<const char*>(tok);
  const char* last = first + len;
  double v = 0;
  auto r = std::from_chars(first, last, v);
  if (r.ec != std::errc::result_out_of_range) return v;
  // JSON.parse gives ±Infinity on overflow and ±0 on underflow: decide by the decimal magnitude.
  bool neg = *first == '-';
  const char* p = first + (neg ? 1 : 0);
  const char* int_start = p;
  while (p < last && *p >= '0' && *p <= '9') p++;
  const char* int_end = p;
  long mag;
  if (!(int_end - int_start == 1 && *int_start == '0')) {
    mag = static_cast<long>(int_end - int_start);
  } else {
    mag = 0;
    if (p < last && *p == '.') {
      for (p++; p < last && *p == '0'; p++) mag--;
    }
  }
  while (p < last && *p != 'e' && *p != 'E') p++;
  long exp = 0;
  if (p < last) {
    p++;
    bool eneg = *p == '-';
    if (*p == '+' || *p == '-') p++;
    for (; p < last; p++)
      if (exp < 100000) exp = exp * 10 + (*p - '0');
    if (eneg) exp = -exp;
  }
  return mag + exp > 0 ? (neg ? -HUGE_VAL : HUGE_VAL) : (neg ? -0.0 : 0.0);
}

bool MeasurementConverter::skip_value(int depth) {
  if (!value_start()) return false;
  switch (*p_) {
    case '"': {
      Str s;
      return string(s);
    }
    case '{': {
      if (!enter(depth + 1)) return false;
      ++p_;
      if (eat('}')) return true;
      for (;;) {
        ws();
        Str k;
        if (!string(k) || !expect(':')) return false;
        if (!skip_value(depth + 1)) return false;
        if (eat(',')) continue;
        return expect('}');
      }
    }
    case '[': {
      if (!enter(depth + 1)) return false;
      ++p_;
      if (eat(']')) return true;
      for (;;) {
        if (!skip_value(depth + 1)) return false;
        if (eat(',')) continue;
        return expect(']');
      }
    }
    case 't': return lit("true", 4);
    case 'f': return lit("false", 5);
    case 'n': return lit("null", 4);
    default: {
      double v;
      const uint8_t* tok;
      size_t len;
      return number(v, tok, len, false);
    }
  }
}

bool MeasurementConverter::key_fallback(const Str& key, std::vector<Str>& seen, size_t seen_from) {
  // Plain keys come from valid UTF-8 input and cannot hold a lone surrogate.
  bool fb = (key.n > 0 && is_digit(key.p[0]) && integer_like(key.p, key.n)) || (key.n == 9 && key.eq("__proto__")) ||
            (!key.plain && has_lone_surrogate(key.p, key.n)) || seen.size() - seen_from >= kMaxKeysPerObject;
  for (size_t i = seen_from; !fb && i < seen.size(); i++)
    fb = seen[i].n == key.n && std::memcmp(seen[i].p, key.p, key.n) == 0;
  if (fb) {
    fallback_ = true;
    return true;
  }
  seen.push_back(key);
  return false;
}

bool MeasurementConverter::member_key(Str& key, size_t seen_from) {
  ws();
  if (!string(key)) return false;
  if (key_fallback(key, keys_, seen_from)) return false;
  return expect(':');
}

bool MeasurementConverter::copy_value(std::string& out, int depth) {
  if (!value_start()) return false;
  switch (*p_) {
    case '"': {
      Str s;
      if (!string(s)) return false;
      append_string(out, s);
      return true;
    }
    case '{': {
      if (!enter(depth + 1)) return false;
      ++p_;
      out += '{';
      size_t seen_from = keys_.size();
      if (eat('}')) {
        out += '}';
        return true;
      }
      for (bool first = true;; first = false) {
        Str k;
        if (!member_key(k, seen_from)) return false;
        if (!first) out += ',';
        append_string(out, k);
        out += ':';
        if (!copy_value(out, depth + 1)) return false;
        if (eat(',')) continue;
        if (!expect('}')) return false;
        out += '}';
        keys_.resize(seen_from);
        return true;
      }
    }
    case '[': {
      if (!enter(depth + 1)) return false;
      ++p_;
      out += '[';
      if (eat(']')) {
        out += ']';
        return true;
      }
      for (bool first = true;; first = false) {
        if (!first) out += ',';
        if (!copy_value(out, depth + 1)) return false;
        if (eat(',')) continue;
        if (!expect(']')) return false;
        out += ']';
        return true;
      }
    }
    case 't': return copy_lit(out, "true", 4);
    case 'f': return copy_lit(out, "false", 5);
    case 'n': return copy_lit(out, "null", 4);
    default: {
      double v;
      const uint8_t* tok;
      size_t len;
      if (!number(v, tok, len, false)) return false;
      if (append_js_number_token(out, tok, len)) return true;
      v = number_value(tok, len);
      append_json_number(out, v);
      return true;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Semantics

void MeasurementConverter::set_error(std::string msg) {
  if (has_error_) return;
  has_error_ = true;
  error_ = std::move(msg);
}

/** jsonTypeName of src/core/json.ts; `kind` is the first byte of the value. */
void MeasurementConverter::type_name(std::string& out, char kind, const Str& s, double v) {
  switch (kind) {
    case 'n': out += "null"; break;
    case '[': out += "sequence"; break;
    case '{': out += "map"; break;
    case 't': out += "boolean `true`"; break;
    case 'f': out += "boolean `false`"; break;
    case '"':
      out += "string ";
      append_json_string(out, s.p, s.n);
      break;
    default:
      out += "number ";
      append_js_number(out, v);
  }
}

bool MeasurementConverter::append_value_fragment(std::string& out, const uint8_t* tok, size_t tok_len,
                                                 const std::string* unit) {
  size_t mark = out.size();
  out += "{\"value\":";
  if (!append_js_number_token(out, tok, tok_len)) {
    double v = number_value(tok, tok_len);
    if (!std::isfinite(v)) {  // JSON.parse gave Infinity: "number out of range"
      out.resize(mark);
      return false;
    }
    append_js_number(out, v);
  }
  if (unit) {
    out += ",\"unit\":";
    out += *unit;
  }
  out += '}';
  return true;
}

bool MeasurementConverter::time_value() {
  uint8_t c = *p_;
  if (c == '"') {
    Str s;
    if (!string(s)) return false;
    if (has_error_) return true;
    const char* component = nullptr;
    switch (check_rfc3339(s.p, s.n, component)) {
      case TimeCheck::Ok:
        time_json_.clear();
        append_json_string(time_json_, s.p, s.n);
        has_time_ = true;
        return true;
      case TimeCheck::Fallback: fallback_ = true; return false;
      case TimeCheck::Invalid: {
        std::string msg = "Invalid ISO8601 timestamp (expected YYYY-MM-DDThh:mm:ss.sss.\xC2\xB1hh:mm): ";
        append_json_string(msg, s.p, s.n);
        msg += ": the '";
        msg += component;
        msg += "' component could not be parsed";
        set_error(std::move(msg));
        return true;
      }
    }
    return true;
  }
  if (c == '-' || is_digit(c)) {
    double v;
    const uint8_t* tok;
    size_t len;
    if (!number(v, tok, len)) return false;
    if (has_error_) return true;
    // RFC 3339 writes four-digit years (0000-01-01T00:00:00Z up to 10000-01-01 excluded), as the TS path.
    if (!std::isfinite(v) || v < -62167219200.0 || v >= 253402300800.0) {
      std::string msg = "Invalid unix timestamp: ";
      append_js_number(msg, v);
      msg += ": outside the years 0000 to 9999 that RFC 3339 can write";
      set_error(std::move(msg));
      return true;
    }
    time_json_.assign(1, '"');
    append_iso_time(time_json_, v * 1000);
    time_json_ += '"';
    has_time_ = true;
    return true;
  }
  if (!skip_value(1)) return false;
  set_error("Invalid JSON: invalid type for \"time\": expected an RFC 3339 string or unix seconds");
  return true;
}

/** `group.member`, as the TS path names a series member in its messages and unit lookups. */
void MeasurementConverter::append_member_path(std::string& out, const Str& name, const Str& member) {
  append(out, name.p, name.n);
  out += '.';
  append(out, member.p, member.n);
}

bool MeasurementConverter::group(const Str& name, const C8yContext& ctx) {
  if (!enter(2)) return false;
  ++p_;
  size_t seen_from = keys_.size();
  size_t members = 0;
  size_t mark = series_.size();
  if (!has_error_) {
    series_ += ',';
    append_string(series_, name);
    series_ += ":{";
  }
  if (!eat('}')) {
    for (;;) {
      Str k;
      if (!member_key(k, seen_from) || !value_start()) return false;
      uint8_t c = *p_;
      if (c == '{') {
        if (!skip_value(2)) return false;
        if (!has_error_) {
          std::string msg = "Invalid JSON: Expect single-value measurement: \"";
          append_member_path(msg, name, k);
          msg += "\" is nested too deep";
          set_error(std::move(msg));
        }
      } else if (c == '-' || is_digit(c)) {
        double v;
        const uint8_t* tok;
        size_t len;
        if (!number(v, tok, len, false)) return false;
        if (!has_error_) {
          const std::string* unit = nullptr;
          if (!ctx.units.empty()) {
            key_scratch_.clear();
            append_member_path(key_scratch_, name, k);
            unit = ctx.units.find(reinterpret_cast<const uint8_t*>(key_scratch_.data()), key_scratch_.size());
          }
          size_t member_mark = series_.size();
          if (members > 0) series_ += ',';
          append_string(series_, k);
          series_ += ':';
          if (!append_value_fragment(series_, tok, len, unit)) {
            series_.resize(member_mark);
            std::string msg = "Invalid JSON: number out of range for \"";
            append_member_path(msg, name, k);
            msg += '"';
            set_error(std::move(msg));
          }
        }
      } else {
        Str s;
        const uint8_t* at = p_;
        if (c == '"') {
          if (!string(s)) return false;
        } else if (!skip_value(2)) {
          return false;
        }
        if (!has_error_) {
          std::string msg = "Invalid JSON: invalid type: ";
          type_name(msg, static_cast<char>(*at), s, 0);
          msg += ", expected ThinEdge single or multi-value measurement for \"";
          append_member_path(msg, name, k);
          msg += '"';
          set_error(std::move(msg));
        }
      }
      members++;
      if (eat(',')) continue;
      if (!expect('}')) return false;
      break;
    }
  }
  keys_.resize(seen_from);
  if (!has_error_ && members == 0) {
    std::string msg = "Invalid JSON: Empty Thin Edge measurement: \"";
    append(msg, name.p, name.n);
    msg += "\" must contain at least one measurement";
    set_error(std::move(msg));
  }
  if (has_error_) {
    series_.resize(mark);
  } else {
    series_ += '}';
    series_names_.push_back(name);
  }
  return true;
}

bool MeasurementConverter::top_level(const C8yContext& ctx) {
  if (!enter(1)) return false;
  ++p_;  // '{'
  size_t seen_from = keys_.size();
  if (eat('}')) return true;
  for (;;) {
    Str key;
    if (!member_key(key, seen_from) || !value_start()) return false;
    uint8_t c = *p_;
    if (key.eq("time")) {
      if (!time_value()) return false;
    } else if (key.eq("type") && c == '"') {
      Str s;
      if (!string(s)) return false;
      type_json_.clear();
      append_string(type_json_, s);
      has_type_ = true;
    } else if (key.eq("properties")) {
      if (c != '{' || has_error_) {
        if (!skip_value(1)) return false;
      } else {
        if (!enter(2)) return false;
        ++p_;
        has_props_object_ = true;
        size_t pseen = keys_.size();
        if (!eat('}')) {
          for (;;) {
            ws();
            Str k;
            if (!string(k)) return false;
            if (key_fallback(k, keys_, pseen)) return false;
            for (const char* name : kObjectPrototypeNames) {
              if (k.eq(name)) {
                fallback_ = true;
                return false;
              }
            }
            if (!expect(':')) return false;
            size_t begin = props_.size();
            append_string(props_, k);
            props_ += ':';
            if (!copy_value(props_, 2)) return false;
            prop_entries_.push_back({k, begin, props_.size()});
            if (eat(',')) continue;
            if (!expect('}')) return false;
            break;
          }
        }
        keys_.resize(pseen);
      }
    } else if (c == '"') {
      Str s;  // top-level strings are tolerated and ignored
      if (!string(s)) return false;
    } else if (c == '{') {
      if (!group(key, ctx)) return false;
    } else if (c == '-' || is_digit(c)) {
      double v;
      const uint8_t* tok;
      size_t len;
      if (!number(v, tok, len, false)) return false;
      if (!has_error_) {
        const std::string* unit = ctx.units.empty() ? nullptr : ctx.units.find(key.p, key.n);
        size_t mark = series_.size();
        series_ += ',';
        size_t at = series_.size();
        append_string(series_, key);
        size_t escaped_len = series_.size() - at;
        series_ += ":{";
        series_.append(escaped_len, '\0');  // the name again, copied below (same buffer)
        std::memcpy(&series_[series_.size() - escaped_len], &series_[at], escaped_len);
        series_ += ':';
        if (append_value_fragment(series_, tok, len, unit)) {
          series_ += '}';
          series_names_.push_back(key);
        } else {
          series_.resize(mark);
          std::string msg = "Invalid JSON: number out of range for \"";
          append(msg, key.p, key.n);
          msg += '"';
          set_error(std::move(msg));
        }
      }
    } else {
      const uint8_t* at = p_;
      if (!skip_value(1)) return false;
      if (!has_error_) {
        std::string msg = "Invalid JSON: invalid type: ";
        type_name(msg, static_cast<char>(*at), Str{}, 0);
        msg += ", expected ThinEdge single or multi-value measurement for \"";
        append(msg, key.p, key.n);
        msg += '"';
        set_error(std::move(msg));
      }
    }
    if (eat(',')) continue;
    return expect('}');
  }
}

ConvertStatus MeasurementConverter::convert(const uint8_t* payload, size_t n, const C8yContext& ctx, double now_ms,
                                            std::string& out, std::string& error) {
  syntax_ = depth_error_ = fallback_ = has_error_ = false;
  has_props_object_ = has_type_ = has_time_ = false;
  error_.clear();
  arena_used_ = 0;
  keys_.clear();
  series_names_.clear();
  series_.clear();
  props_.clear();
  prop_entries_.clear();
  now_ms_ = now_ms;
  out.clear();
  error.clear();

  if (!valid_utf8(payload, n)) {
    error = "Invalid UTF-8 payload";
    return ConvertStatus::Invalid;
  }
  p_ = payload;
  end_ = payload + n;
  if (n >= 3 && p_[0] == 0xEF && p_[1] == 0xBB && p_[2] == 0xBF) p_ += 3;  // TextDecoder drops one BOM
  ws();
  if (p_ >= end_) return ConvertStatus::Syntax;

  bool ok;
  if (*p_ == '{') {
    ok = top_level(ctx);
  } else {
    // Not an object: JSON.parse must still accept the whole text before the type is reported.
    const uint8_t* at = p_;
    Str s;
    double v = 0;
    if (*at == '"') {
      ok = string(s);
    } else if (*at == '-' || is_digit(*at)) {
      const uint8_t* tok;
      size_t len;
      ok = number(v, tok, len);
    } else {
      ok = skip_value(0);
    }
    if (ok) {
      std::string msg = "Invalid JSON: invalid type: ";
      type_name(msg, static_cast<char>(*at), s, v);
      msg += ", expected ThinEdge JSON";
      set_error(std::move(msg));
    }
  }
  if (depth_error_) {
    error = "Invalid JSON: nesting deeper than 64 levels";
    return ConvertStatus::Invalid;
  }
  if (fallback_) return ConvertStatus::Fallback;
  if (!ok || syntax_) return ConvertStatus::Syntax;
  ws();
  if (p_ != end_) return ConvertStatus::Syntax;
  if (has_error_) {
    error = error_;
    return ConvertStatus::Invalid;
  }
  if (series_names_.empty()) {
    error = "Invalid JSON: Empty Thin Edge measurement: it must contain at least one measurement";
    return ConvertStatus::Invalid;
  }
  for (const Str& s : series_names_) {
    if (s.eq("type") || s.eq("time") || s.eq("externalSource")) {
      error = "Invalid JSON: \"";
      append(error, s.p, s.n);
      error += "\" cannot be used as a measurement name";
      return ConvertStatus::Invalid;
    }
  }

  bool has_ext = !ctx.external_source_json.empty();
  out.reserve(64 + series_.size() + props_.size() + ctx.external_source_json.size());
  out += '{';
  if (has_ext) {
    out += "\"externalSource\":";
    out += ctx.external_source_json;
    out += ',';
  }
  out += "\"type\":";
  out += has_type_ ? type_json_ : ctx.default_type_json;
  out += ",\"time\":";
  if (has_time_) {
    out += time_json_;
  } else {
    out += '"';
    append_iso_time(out, now_ms_);
    out += '"';
  }
  out += series_;
  for (const PropEntry& e : prop_entries_) {
    if (e.key.eq("type") || e.key.eq("time") || (has_ext && e.key.eq("externalSource"))) continue;
    bool clash = false;
    for (const Str& s : series_names_) {
      if (s.n == e.key.n && std::memcmp(s.p, e.key.p, s.n) == 0) {
        clash = true;
        break;
      }
    }
    if (clash) continue;
    out += ',';
    out.append(props_, e.begin, e.end - e.begin);
  }
  out += '}';
  return ConvertStatus::Ok;
}

}  // namespace tedge
