// The converter against (1) the shared thin-edge.io fixtures in ../shared (valid ones convert, invalid
// ones are rejected naming the same cause as the TS test), and (2) test/fixtures/measurement-c8y/cases.json,
// golden outputs and errors produced by the TypeScript path (kept in sync by a TS test).
#include <cmath>

#include "json_dom.h"
#include "measurement_c8y.h"
#include "test.h"

using namespace tedge;
using namespace tedge::test;

namespace {

ConvertStatus convert(const std::string& payload, const C8yContext& ctx, double now, std::string& out,
                      std::string& err) {
  MeasurementConverter conv;
  return conv.convert(reinterpret_cast<const uint8_t*>(payload.data()), payload.size(), ctx, now, out, err);
}

C8yContext default_context() {
  C8yContext ctx;
  ctx.default_type_json = "\"ThinEdgeMeasurement\"";
  return ctx;
}

const char* status_name(ConvertStatus s) {
  switch (s) {
    case ConvertStatus::Ok: return "ok";
    case ConvertStatus::Invalid: return "invalid";
    case ConvertStatus::Syntax: return "syntax";
    case ConvertStatus::Fallback: return "fallback";
  }
  return "?";
}

}  // namespace

TEST("measurement: shared thin-edge.io fixtures") {
  std::string dir = fixture_dir("TEDGE_SHARED_DIR", TEDGE_SHARED_DIR) + "/fixtures/thin-edge-measurements";
  auto valid = list_files(dir + "/valid", ".json");
  auto timestamp = list_files(dir + "/valid/timestamp", ".json");
  valid.insert(valid.end(), timestamp.begin(), timestamp.end());
  auto invalid = list_files(dir + "/invalid", ".json");
  CHECK(valid.size() >= 7);
  CHECK(invalid.size() >= 13);
  C8yContext ctx = default_context();
  for (const auto& f : valid) {
    CONTEXT(f);
    std::string out, err;
    CHECK_EQ(std::string(status_name(convert(read_file(f), ctx, 0, out, err))), std::string("ok"));
  }
  // The cause each invalid fixture must name (as test/unit/core/measurement-fixtures.test.ts).
  const std::pair<const char*, const char*> causes[] = {
      {"reject_array_value", "invalid type: sequence"},
      {"reject_boolean_value", "invalid type: boolean"},
      {"reject_deep_hierarchy", "Expect single-value measurement"},
      {"reject_empty_measurement", "\"foo\" must contain at least one measurement"},
      {"reject_empty_record", "must contain at least one measurement"},
      {"reject_huge_number", "number out of range"},
      {"reject_invalid_json", ""},  // a syntax error: V8's wording, produced by the TS path
      {"reject_invalid_timestamp", "'hour'"},
      {"reject_just_time", "must contain at least one measurement"},
      {"reject_partial_json", ""},
      {"reject_partial_timestamp", "'separator'"},
      {"reject_timestamp_missing_time_separator", "'separator'"},
      {"reject_toplevel_array", "invalid type: sequence, expected ThinEdge JSON"},
  };
  for (const auto& f : invalid) {
    CONTEXT(f);
    std::string name = f.substr(f.rfind('/') + 1);
    name = name.substr(0, name.size() - 5);
    const char* cause = nullptr;
    for (const auto& c : causes)
      if (name == c.first) cause = c.second;
    CHECK(cause != nullptr);
    if (!cause) continue;
    std::string out, err;
    ConvertStatus s = convert(read_file(f), ctx, 0, out, err);
    if (*cause == 0) {
      CHECK(s == ConvertStatus::Syntax);
    } else {
      CHECK(s == ConvertStatus::Invalid);
      if (err.find(cause) == std::string::npos) fail(__FILE__, __LINE__, "error '" + err + "' lacks '" + cause + "'");
    }
  }
}

TEST("measurement: golden cases produced by the TypeScript path") {
  std::string path = fixture_dir("TEDGE_FIXTURES_DIR", TEDGE_FIXTURES_DIR) + "/measurement-c8y/cases.json";
  Json doc;
  CHECK(parse_json(read_file(path), doc));
  const Json* cases = doc.get("cases");
  CHECK(cases && cases->items.size() >= 40);
  if (!cases) return;
  MeasurementConverter conv;  // one converter for all: state must not leak between calls
  for (const Json& c : cases->items) {
    CONTEXT(c.str("name"));
    const Json* ctxj = c.get("context");
    C8yContext ctx;
    ctx.default_type_json = ctxj->str("defaultTypeJson");
    ctx.external_source_json = ctxj->str("externalSourceJson");
    if (const Json* units = ctxj->get("units"))
      for (const auto& u : units->fields) ctx.units.set(u.first, u.second.s);
    std::string payload = c.str("payload");
    if (const Json* hex = c.get("payloadHex")) {
      payload.clear();
      for (size_t i = 0; i + 1 < hex->s.size(); i += 2) payload += static_cast<char>(std::stoi(hex->s.substr(i, 2), nullptr, 16));
    }
    std::string out, err;
    ConvertStatus s = conv.convert(reinterpret_cast<const uint8_t*>(payload.data()), payload.size(), ctx,
                                   ctxj->num("nowMs"), out, err);
    std::string expected_status = c.str("native");
    CHECK_EQ(std::string(status_name(s)), expected_status);
    if (expected_status == "ok") CHECK_EQ(out, c.str("output"));
    if (expected_status == "invalid") CHECK_EQ(err, c.str("error"));
  }
}
