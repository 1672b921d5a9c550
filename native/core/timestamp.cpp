#include "timestamp.h"

#include <cmath>
#include <cstdint>

namespace tedge {
namespace {

bool digit(uint8_t c) { return c >= '0' && c <= '9'; }

bool digits(const uint8_t* s, size_t n, size_t at, size_t count) {
  if (at + count > n) return false;
  for (size_t i = 0; i < count; i++)
    if (!digit(s[at + i])) return false;
  return true;
}

int num2(const uint8_t* s, size_t at) { return (s[at] - '0') * 10 + (s[at + 1] - '0'); }

/** firstBadComponent of timestamp.ts: the first prefix pattern that does not match. */
const char* first_bad_component(const uint8_t* s, size_t n) {
  if (!digits(s, n, 0, 4)) return "year";
  if (!(n > 4 && s[4] == '-' && digits(s, n, 5, 2))) return "month";
  if (!(n > 7 && s[7] == '-' && digits(s, n, 8, 2))) return "day";
  if (!(n > 10 && (s[10] == 'T' || s[10] == 't' || s[10] == ' '))) return "separator";
  if (!digits(s, n, 11, 2)) return "hour";
  if (!(n > 13 && s[13] == ':' && digits(s, n, 14, 2))) return "minute";
  if (!(n > 16 && s[16] == ':' && digits(s, n, 17, 2))) return "second";
  return "offset";
}

// Howard Hinnant's civil_from_days.
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

void pad(std::string& out, int64_t v, int width) {
  char buf[24];
  int i = 24;
  do {
    buf[--i] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (24 - i < width) buf[--i] = '0';
  out.append(buf + i, static_cast<size_t>(24 - i));
}

}  // namespace

TimeCheck check_rfc3339(const uint8_t* s, size_t n, const char*& component) {
  // ^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$
  bool match = n >= 20 && digits(s, n, 0, 4) && s[4] == '-' && digits(s, n, 5, 2) && s[7] == '-' &&
               digits(s, n, 8, 2) && (s[10] == 'T' || s[10] == 't') && digits(s, n, 11, 2) && s[13] == ':' &&
               digits(s, n, 14, 2) && s[16] == ':' && digits(s, n, 17, 2);
  size_t i = 19;
  if (match && i < n && s[i] == '.') {
    size_t f = i + 1;
    while (f < n && digit(s[f]) && f - i <= 9) f++;
    size_t nd = f - i - 1;
    if (nd < 1 || nd > 9 || (f < n && digit(s[f]))) match = false;
    i = f;
  }
  bool offset_z = false, lower = false;
  if (match) {
    if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z')) {
      offset_z = true;
      lower = s[i] == 'z';
    } else if (!(i + 6 == n && (s[i] == '+' || s[i] == '-') && digits(s, n, i + 1, 2) && s[i + 3] == ':' &&
                 digits(s, n, i + 4, 2))) {
      match = false;
    }
  }
  if (!match) {
    component = first_bad_component(s, n);
    return TimeCheck::Invalid;
  }
  int month = num2(s, 5), day = num2(s, 8), hour = num2(s, 11), minute = num2(s, 14), second = num2(s, 17);
  if (month < 1 || month > 12) component = "month";
  else if (day < 1 || day > 31) component = "day";
  else if (hour > 23) component = "hour";
  else if (minute > 59) component = "minute";
  else if (second > 60) component = "second";
  else if (!offset_z && (num2(s, i + 1) > 23 || num2(s, i + 4) > 59)) component = "offset";
  else component = nullptr;
  if (component) return TimeCheck::Invalid;
  if (lower || s[10] == 't') return TimeCheck::Fallback;  // V8's legacy parser decides
  if (second == 60) {  // Date.parse → NaN; timestamp.ts names 'day'
    component = "day";
    return TimeCheck::Invalid;
  }
  return TimeCheck::Ok;
}

void append_iso_time(std::string& out, double ms_value) {
  int64_t ms = static_cast<int64_t>(std::trunc(ms_value));  // TimeClip
  int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  int64_t rem = ms - days * 86400000;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  if (y >= 0 && y <= 9999) {
    pad(out, y, 4);
  } else {
    out += y < 0 ? '-' : '+';
    pad(out, y < 0 ? -y : y, 6);
  }
  out += '-';
  pad(out, m, 2);
  out += '-';
  pad(out, d, 2);
  out += 'T';
  pad(out, rem / 3600000, 2);
  out += ':';
  pad(out, (rem / 60000) % 60, 2);
  out += ':';
  pad(out, (rem / 1000) % 60, 2);
  int64_t frac = rem % 1000;
  if (frac != 0) {
    out += '.';
    pad(out, frac, 3);
  }
  out += 'Z';
}

}  // namespace tedge
