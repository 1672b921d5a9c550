#include "json_dom.h"

#include <cmath>
#include <cstdlib>

#include "js_format.h"

namespace tedge::test {
namespace {

struct P {
  const char* p;
  const char* e;
  void ws() {
    while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
  }
  bool hex4(uint32_t& u) {
    if (e - p < 4) return false;
    u = 0;
    for (int i = 0; i < 4; i++) {
      char c = p[i];
      u <<= 4;
      if (c >= '0' && c <= '9') u |= c - '0';
      else if (c >= 'a' && c <= 'f') u |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') u |= c - 'A' + 10;
      else return false;
    }
    p += 4;
    return true;
  }
  bool str(std::string& out) {
    if (p >= e || *p != '"') return false;
    p++;
    while (p < e && *p != '"') {
      if (*p != '\\') {
        out += *p++;
        continue;
      }
      if (++p >= e) return false;
      char c = *p++;
      switch (c) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          uint32_t u;
          if (!hex4(u)) return false;
          if (u >= 0xD800 && u <= 0xDBFF && e - p >= 6 && p[0] == '\\' && p[1] == 'u') {
            const char* save = p;
            p += 2;
            uint32_t lo;
            if (hex4(lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
              tedge::append_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
              break;
            }
            p = save;
          }
          tedge::append_utf8(out, u);
          break;
        }
        default: out += c;
      }
    }
    if (p >= e) return false;
    p++;
    return true;
  }
  bool value(Json& v) {
    ws();
    if (p >= e) return false;
    if (*p == '{') {
      v.kind = Json::Object;
      p++;
      ws();
      if (p < e && *p == '}') {
        p++;
        return true;
      }
      for (;;) {
        ws();
        std::string k;
        if (!str(k)) return false;
        ws();
        if (p >= e || *p != ':') return false;
        p++;
        Json item;
        if (!value(item)) return false;
        v.fields.emplace_back(std::move(k), std::move(item));
        ws();
        if (p < e && *p == ',') {
          p++;
          continue;
        }
        if (p < e && *p == '}') {
          p++;
          return true;
        }
        return false;
      }
    }
    if (*p == '[') {
      v.kind = Json::Array;
      p++;
      ws();
      if (p < e && *p == ']') {
        p++;
        return true;
      }
      for (;;) {
        Json item;
        if (!value(item)) return false;
        v.items.push_back(std::move(item));
        ws();
        if (p < e && *p == ',') {
          p++;
          continue;
        }
        if (p < e && *p == ']') {
          p++;
          return true;
        }
        return false;
      }
    }
    if (*p == '"') {
      v.kind = Json::String;
      return str(v.s);
    }
    if (e - p >= 4 && std::string(p, 4) == "true") {
      v.kind = Json::Bool;
      v.b = true;
      p += 4;
      return true;
    }
    if (e - p >= 5 && std::string(p, 5) == "false") {
      v.kind = Json::Bool;
      p += 5;
      return true;
    }
    if (e - p >= 4 && std::string(p, 4) == "null") {
      p += 4;
      return true;
    }
    char* end;
    v.kind = Json::Number;
    v.n = std::strtod(p, &end);
    if (end == p) return false;
    p = end;
    return true;
  }
};

}  // namespace

bool parse_json(const std::string& text, Json& out) {
  P p{text.data(), text.data() + text.size()};
  if (!p.value(out)) return false;
  p.ws();
  return p.p == p.e;
}

bool json_equal(const Json& a, const Json& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Json::Null: return true;
    case Json::Bool: return a.b == b.b;
    case Json::Number: return a.n == b.n;
    case Json::String: return a.s == b.s;
    case Json::Array:
      if (a.items.size() != b.items.size()) return false;
      for (size_t i = 0; i < a.items.size(); i++)
        if (!json_equal(a.items[i], b.items[i])) return false;
      return true;
    case Json::Object:
      if (a.fields.size() != b.fields.size()) return false;
      for (const auto& f : a.fields) {
        const Json* o = b.get(f.first);
        if (!o || !json_equal(f.second, *o)) return false;
      }
      return true;
  }
  return false;
}

std::string Json::dump() const {
  std::string out;
  switch (kind) {
    case Null: return "null";
    case Bool: return b ? "true" : "false";
    case Number: tedge::append_js_number(out, n); return out;
    case String: tedge::append_json_string(out, reinterpret_cast<const uint8_t*>(s.data()), s.size()); return out;
    case Array:
      out = "[";
      for (size_t i = 0; i < items.size(); i++) out += (i ? "," : "") + items[i].dump();
      return out + "]";
    case Object:
      out = "{";
      for (size_t i = 0; i < fields.size(); i++) {
        if (i) out += ',';
        tedge::append_json_string(out, reinterpret_cast<const uint8_t*>(fields[i].first.data()), fields[i].first.size());
        out += ':' + fields[i].second.dump();
      }
      return out + "}";
  }
  return out;
}

Json jnull() { return Json{}; }
Json jbool(bool v) {
  Json j;
  j.kind = Json::Bool;
  j.b = v;
  return j;
}
Json jnum(double v) {
  Json j;
  j.kind = Json::Number;
  j.n = v;
  return j;
}
Json jstr(std::string v) {
  Json j;
  j.kind = Json::String;
  j.s = std::move(v);
  return j;
}
Json jarr() {
  Json j;
  j.kind = Json::Array;
  return j;
}
Json jobj() {
  Json j;
  j.kind = Json::Object;
  return j;
}

}  // namespace tedge::test
