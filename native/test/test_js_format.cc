// Number::toString, JSON.stringify escaping, strict UTF-8 and the timestamp rules, against values
// printed by Node 20 (the Node-side differential tests cover many more at random).
#include <cmath>
#include <limits>

#include "js_format.h"
#include "test.h"
#include "timestamp.h"

using namespace tedge;

namespace {
std::string num(double v) {
  std::string s;
  append_js_number(s, v);
  return s;
}
std::string jstr(const std::string& v) {
  std::string s;
  append_json_string(s, reinterpret_cast<const uint8_t*>(v.data()), v.size());
  return s;
}
std::string iso(double ms) {
  std::string s;
  append_iso_time(s, ms);
  return s;
}
}  // namespace

TEST("js number formatting follows Number::toString") {
  struct Row {
    double v;
    const char* js;
  };
  const Row rows[] = {
      {0, "0"}, {-0.0, "0"}, {25, "25"}, {25.5, "25.5"}, {-25, "-25"}, {2100.4, "2100.4"}, {0.1, "0.1"},
      {0.1 + 0.2, "0.30000000000000004"}, {1e21, "1e+21"}, {1e20, "100000000000000000000"},
      {123456789012345680000.0, "123456789012345680000"}, {1.5e-7, "1.5e-7"}, {0.000001, "0.000001"},
      {0.0000001, "1e-7"}, {-1.5e300, "-1.5e+300"}, {5e-324, "5e-324"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
      {9007199254740993.0, "9007199254740992"}, {4.35, "4.35"}, {100, "100"}, {1.2345678901234567e-5, "0.000012345678901234568"},
      {std::numeric_limits<double>::infinity(), "Infinity"}, {-std::numeric_limits<double>::infinity(), "-Infinity"},
      {std::nan(""), "NaN"}};
  for (const auto& r : rows) {
    CONTEXT(r.js);
    CHECK_EQ(num(r.v), std::string(r.js));
  }
  std::string s;
  append_json_number(s, std::numeric_limits<double>::infinity());
  CHECK_EQ(s, std::string("null"));
}

TEST("JSON.stringify string escaping, lone surrogates included") {
  CHECK_EQ(jstr("plain"), std::string("\"plain\""));
  CHECK_EQ(jstr("q\"b\\s/"), std::string("\"q\\\"b\\\\s/\""));
  CHECK_EQ(jstr("\b\f\n\r\t\x01\x1f\x7f"), std::string("\"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\""));
  CHECK_EQ(jstr("\xC2\xB0" "C \xE2\x80\xA8 \xF0\x9F\x98\x80"), std::string("\"\xC2\xB0" "C \xE2\x80\xA8 \xF0\x9F\x98\x80\""));
  CHECK_EQ(jstr("a\xED\xA0\x80z"), std::string("\"a\\ud800z\""));        // lone high surrogate (WTF-8)
  CHECK_EQ(jstr("\xED\xBF\xBF"), std::string("\"\\udfff\""));             // lone low surrogate
  CHECK_EQ(jstr("\xED\x9F\xBF"), std::string("\"\xED\x9F\xBF\""));        // U+D7FF is not a surrogate
}

TEST("strict UTF-8 as TextDecoder({fatal: true})") {
  auto ok = [](const std::string& s) { return valid_utf8(reinterpret_cast<const uint8_t*>(s.data()), s.size()); };
  CHECK(ok("ascii only, long enough for the 8-byte fast path"));
  CHECK(ok("\xC2\xB0\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF"));
  CHECK(!ok("\xC0\xAF"));          // overlong
  CHECK(!ok("\xE0\x80\xAF"));      // overlong
  CHECK(!ok("\xED\xA0\x80"));      // surrogate
  CHECK(!ok("\xF4\x90\x80\x80"));  // > U+10FFFF
  CHECK(!ok("\xF0\x9F\x98"));      // truncated
  CHECK(!ok("abc\x80"));
  CHECK(!ok("\xFF"));
}

TEST("timestamps: RFC 3339 checks name the component timestamp.ts names") {
  struct Row {
    const char* s;
    TimeCheck r;
    const char* component;
  };
  const Row rows[] = {
      {"2013-06-22T17:03:14.000+02:00", TimeCheck::Ok, nullptr},
      {"2021-04-30T17:03:14Z", TimeCheck::Ok, nullptr},
      {"2021-04-30T17:03:14.123456789-05:30", TimeCheck::Ok, nullptr},
      {"2021-02-30T00:00:00Z", TimeCheck::Ok, nullptr},  // V8 accepts day 30 in February
      {"2013-06-22 3am", TimeCheck::Invalid, "hour"},
      {"2013-06-22", TimeCheck::Invalid, "separator"},
      {"2013-06-22 17:03:14Z", TimeCheck::Invalid, "offset"},
      {"20x3", TimeCheck::Invalid, "year"},
      {"2013-13-01T00:00:00Z", TimeCheck::Invalid, "month"},
      {"2013-12-32T00:00:00Z", TimeCheck::Invalid, "day"},
      {"2013-12-01T24:00:00Z", TimeCheck::Invalid, "hour"},
      {"2013-12-01T23:60:00Z", TimeCheck::Invalid, "minute"},
      {"2013-12-01T23:59:61Z", TimeCheck::Invalid, "second"},
      {"2013-12-01T23:59:60Z", TimeCheck::Invalid, "day"},  // Date.parse → NaN
      {"2013-12-01T23:59:59+24:00", TimeCheck::Invalid, "offset"},
      {"2013-12-01T23:59:59.1234567890Z", TimeCheck::Invalid, "offset"},
      {"2013-12-01t23:59:59Z", TimeCheck::Fallback, nullptr},
      {"2013-12-01T23:59:59z", TimeCheck::Fallback, nullptr},
  };
  for (const auto& row : rows) {
    CONTEXT(row.s);
    const char* component = nullptr;
    std::string s = row.s;
    CHECK(check_rfc3339(reinterpret_cast<const uint8_t*>(s.data()), s.size(), component) == row.r);
    if (row.component) CHECK_EQ(std::string(component ? component : "(none)"), std::string(row.component));
  }
}

TEST("timestamps: Date.prototype.toISOString layout") {
  CHECK_EQ(iso(0), std::string("1970-01-01T00:00:00Z"));
  CHECK_EQ(iso(1619802194000.0), std::string("2021-04-30T17:03:14Z"));
  CHECK_EQ(iso(1619802194123.0), std::string("2021-04-30T17:03:14.123Z"));
  CHECK_EQ(iso(1619802194123.9), std::string("2021-04-30T17:03:14.123Z"));
  CHECK_EQ(iso(-1), std::string("1969-12-31T23:59:59.999Z"));
  CHECK_EQ(iso(-62167219200000.0), std::string("0000-01-01T00:00:00Z"));
  CHECK_EQ(iso(-62198755200000.0), std::string("-000001-01-01T00:00:00Z"));
  CHECK_EQ(iso(8.64e15), std::string("+275760-09-13T00:00:00Z"));
  CHECK_EQ(iso(-8.64e15), std::string("-271821-04-20T00:00:00Z"));
  CHECK_EQ(iso(253402300800000.0), std::string("+010000-01-01T00:00:00Z"));
}
