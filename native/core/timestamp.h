// The timestamp rules of src/core/timestamp.ts, byte for byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tedge {

enum class TimeCheck { Ok, Invalid, Fallback };

/**
 * parseRfc3339: the RFC 3339 pattern, the range checks, then V8's Date.parse acceptance (which, for
 * strings that pass the pattern with an upper-case 'T' and 'Z'/offset, rejects only second 60).
 * Lower-case 't'/'z' go through V8's legacy date parser: Fallback. On Invalid, `component` names
 * the part that could not be parsed ('year', 'month', ..., 'offset').
 */
TimeCheck check_rfc3339(const uint8_t* s, size_t n, const char*& component);

/** `new Date(ms).toISOString()` with ".000Z" shortened to "Z" (formatRfc3339); |ms| <= 8.64e15. */
void append_iso_time(std::string& out, double ms);

}  // namespace tedge
