#include "js_format.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace tedge {

namespace {

/** ECMAScript's Number::toString layout (step 5-10) of the k significant digits of 0.d1..dk × 10^n. */
void append_digits(std::string& out, const char* digits, int k, int n) {
  if (k <= n && n <= 21) {
    out.append(digits, k);
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, n);
    out += '.';
    out.append(digits + n, k - n);
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out.append(digits, k);
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out.append(digits + 1, k - 1);
    }
    out += 'e';
    int e = n - 1;
    out += e < 0 ? '-' : '+';
    char eb[8];
    auto r = std::to_chars(eb, eb + sizeof eb, e < 0 ? -e : e);
    out.append(eb, r.ptr);
  }
}

}  // namespace

void append_js_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v < 0 ? "-Infinity" : "Infinity";
    return;
  }
  if (v == 0) {  // +0 and -0 both print "0"
    out += '0';
    return;
  }
  // Shortest round-trip digits (Ryu in libstdc++), then ECMAScript's layout rules (Number::toString step 5-10).
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  const char* p = buf;
  const char* end = res.ptr;
  if (*p == '-') {
    out += '-';
    p++;
  }
  char digits[32];
  int k = 0;
  for (; p < end && *p != 'e'; p++)
    if (*p != '.') digits[k++] = *p;
  int exp = 0;
  if (p < end) {  // "e+02" / "e-07"
    const char* e = p + 1;
    bool neg = *e == '-';
    if (*e == '+' || *e == '-') e++;
    std::from_chars(e, end, exp);
    if (neg) exp = -exp;
  }
  int n = exp + 1;  // value = 0.d1d2..dk × 10^n
  append_digits(out, digits, k, n);
}

bool append_js_number_token(std::string& out, const uint8_t* tok, size_t len) {
  // Token grammar is already checked: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  char digits[16];
  int k = 0;        // significant digits kept
  int point = 0;    // decimal exponent of the digit string: value = 0.d1..dk × 10^point
  bool neg = false, seen_nonzero = false, in_fraction = false;
  size_t i = 0;
  if (i < len && tok[i] == '-') {
    neg = true;
    i++;
  }
  int trailing_zeros = 0;  // zeros after the last non-zero digit, not yet stored
  for (; i < len; i++) {
    uint8_t c = tok[i];
    if (c == '.') {
      in_fraction = true;
      continue;
    }
    if (c == 'e' || c == 'E') break;
    if (c == '0' && !seen_nonzero) {
      if (in_fraction) point--;
      continue;
    }
    seen_nonzero = true;
    if (!in_fraction) point++;
    if (c == '0') {
      trailing_zeros++;
      continue;
    }
    if (k + trailing_zeros + 1 > 15) return false;
    while (trailing_zeros > 0) {
      digits[k++] = '0';
      trailing_zeros--;
    }
    digits[k++] = static_cast<char>(c);
  }
  if (!seen_nonzero) {  // 0, -0, 0.000, 0e5: all print "0"
    out += '0';
    return true;
  }
  if (i < len) {  // exponent
    i++;
    bool eneg = false;
    if (tok[i] == '+' || tok[i] == '-') eneg = tok[i++] == '-';
    int e = 0;
    for (; i < len; i++) {
      if (e > 1000) return false;
      e = e * 10 + (tok[i] - '0');
    }
    point += eneg ? -e : e;
  }
  if (point < -290 || point > 300) return false;  // stay clear of subnormals and overflow
  if (neg) out += '-';
  append_digits(out, digits, k, point);
  return true;
}

void append_json_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  append_js_number(out, v);
}

static const char kHex[] = "0123456789abcdef";

void append_json_string(std::string& out, const uint8_t* s, size_t n) {
  out += '"';
  size_t run = 0;  // start of the pending run of bytes copied as they are
  for (size_t i = 0; i < n; i++) {
    uint8_t c = s[i];
    if (c >= 0x20 && c != '"' && c != '\\') {
      // Only ED A0..BF xx (a lone surrogate in WTF-8) needs escaping among the bytes >= 0x20.
      if (c != 0xED || i + 2 >= n || s[i + 1] < 0xA0) continue;
    }
    out.append(reinterpret_cast<const char*>(s + run), i - run);
    if (c == 0xED) {  // lone surrogate (WTF-8) → \udxxx
      uint32_t u = 0xD000u | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu);
      out += "\\u";
      out += kHex[(u >> 12) & 15];
      out += kHex[(u >> 8) & 15];
      out += kHex[(u >> 4) & 15];
      out += kHex[u & 15];
      i += 2;
      run = i + 1;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    run = i + 1;
  }
  out.append(reinterpret_cast<const char*>(s + run), n - run);
  out += '"';
}

void append_wtf8_unit(std::string& out, uint32_t u) { append_utf8(out, u); }

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool has_lone_surrogate(const uint8_t* s, size_t n) {
  for (size_t i = 0; i + 1 < n; i++)
    if (s[i] == 0xED && s[i + 1] >= 0xA0) return true;
  return false;
}

bool valid_utf8(const uint8_t* s, size_t n) {
  size_t i = 0;
  while (i < n) {
    // ASCII fast path, 8 bytes at a time.
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, s + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    uint8_t c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + len > n) return false;
    if (s[i + 1] < lo || s[i + 1] > hi) return false;
    for (size_t j = 2; j < len; j++)
      if (s[i + j] < 0x80 || s[i + j] > 0xBF) return false;
    i += len;
  }
  return true;
}

}  // namespace tedge
