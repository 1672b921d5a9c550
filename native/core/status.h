// Status codes of the native core. Nothing in native/core throws across its boundary: every
// fallible function returns one of these (or a ParseError for MQTT frames).
#pragma once

#include <cstdint>

namespace tedge {

/** Outcome of a measurement conversion. Values are part of the addon contract (src/native/binding.ts). */
enum class ConvertStatus : int32_t {
  Ok = 0,
  /** The payload is not what Thin Edge JSON accepts; the message names the cause (same wording as TS). */
  Invalid = 1,
  /**
   * JSON.parse rejects the text. The exact V8 wording of a syntax error is engine-specific, so the
   * caller re-runs the TypeScript path to produce it (errors are the cold path).
   */
  Syntax = 2,
  /**
   * Valid input whose exact JavaScript semantics are costly to reproduce here (duplicate keys,
   * integer-like keys that V8 reorders, "__proto__", lone surrogates in keys, lower-case 't'/'z' in
   * timestamps, objects with very many keys). The caller converts this payload with the TS path.
   */
  Fallback = 3,
};

}  // namespace tedge
