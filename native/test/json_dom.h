// A small JSON DOM for reading test fixtures (test code only; the product's JSON reader is the
// one-pass converter in core/).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tedge::test {

struct Json {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool b = false;
  double n = 0;
  std::string s;
  std::vector<Json> items;                           // Array
  std::vector<std::pair<std::string, Json>> fields;  // Object, in order

  const Json* get(const std::string& key) const {
    for (const auto& f : fields)
      if (f.first == key) return &f.second;
    return nullptr;
  }
  std::string str(const std::string& key, const std::string& fallback = "") const {
    const Json* v = get(key);
    return v && v->kind == String ? v->s : fallback;
  }
  double num(const std::string& key, double fallback = 0) const {
    const Json* v = get(key);
    return v && v->kind == Number ? v->n : fallback;
  }
  std::string dump() const;
};

/** Parses JSON text; returns false on a syntax error. */
bool parse_json(const std::string& text, Json& out);

/** Structural equality; object key order is ignored. */
bool json_equal(const Json& a, const Json& b);

Json jnull();
Json jbool(bool v);
Json jnum(double v);
Json jstr(std::string v);
Json jarr();
Json jobj();
inline void put(Json& obj, std::string key, Json v) { obj.fields.emplace_back(std::move(key), std::move(v)); }

}  // namespace tedge::test
