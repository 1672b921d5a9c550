// libFuzzer harness for the one-pass Thin Edge JSON → Cumulocity JSON converter (ASan + UBSan).
// Properties: no crash or over-read; an accepted payload gives valid JSON (an object that starts
// with the external source or the type); errors have a message; converting twice with the same
// converter gives the same result (no state leaks between calls).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "js_format.h"
#include "json_dom.h"
#include "measurement_c8y.h"

using namespace tedge;

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}

C8yContext make_context(bool ext) {
  C8yContext ctx;
  ctx.default_type_json = "\"env\"";
  if (ext) ctx.external_source_json = "{\"externalId\":\"dev:child\",\"type\":\"c8y_Serial\"}";
  ctx.units.set("temperature", "\"\xC2\xB0" "C\"");
  ctx.units.set("Climate.Humidity", "\"%\"");
  return ctx;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static MeasurementConverter converter;
  static const C8yContext plain = make_context(false);
  static const C8yContext ext = make_context(true);
  const C8yContext& ctx = size > 0 && (data[size - 1] & 1) ? ext : plain;
  std::string out, err, out2, err2;
  double now = 1700000000123.0;
  ConvertStatus s = converter.convert(data, size, ctx, now, out, err);
  ConvertStatus s2 = converter.convert(data, size, ctx, now, out2, err2);
  check(s == s2 && out == out2 && err == err2);
  switch (s) {
    case ConvertStatus::Ok: {
      check(valid_utf8(reinterpret_cast<const uint8_t*>(out.data()), out.size()));
      tedge::test::Json doc;
      check(tedge::test::parse_json(out, doc));
      check(doc.kind == tedge::test::Json::Object && !doc.fields.empty());
      check(doc.fields[0].first == (ctx.external_source_json.empty() ? "type" : "externalSource"));
      break;
    }
    case ConvertStatus::Invalid:
      check(!err.empty() && out.empty());
      check(valid_utf8(reinterpret_cast<const uint8_t*>(err.data()), err.size()));
      break;
    case ConvertStatus::Syntax:
    case ConvertStatus::Fallback: check(out.empty()); break;
  }
  return 0;
}
