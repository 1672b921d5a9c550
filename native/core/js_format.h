// Byte-exact reproductions of the JavaScript formatting the TypeScript path relies on:
// Number::toString (what JSON.stringify and template literals print) and JSON.stringify's string
// escaping (well-formed JSON.stringify: lone surrogates as \udxxx). Strings are WTF-8: valid UTF-8,
// plus 3-byte encodings of lone surrogates (ED A0..BF xx) for the code units JSON escapes can create.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tedge {

/** ECMAScript Number::toString(10): "25", "2100.4", "1e+21", "-1.5e-7", "NaN", "Infinity". */
void append_js_number(std::string& out, double v);

/** JSON.stringify(number): like append_js_number, but NaN and ±Infinity print as null. */
void append_json_number(std::string& out, double v);

/**
 * Number::toString of the double a JSON number token parses to, straight from the token's digits
 * when that is exact: a decimal with at most 15 significant digits in the normal range maps to a
 * double whose shortest round-trip form is those digits (15-digit decimals map to distinct doubles),
 * so no conversion is needed. Returns false (and appends nothing) when the token needs the slow path.
 */
bool append_js_number_token(std::string& out, const uint8_t* tok, size_t len);

/** JSON.stringify(string) of a WTF-8 string, quotes included. */
void append_json_string(std::string& out, const uint8_t* s, size_t n);

/** Appends code unit `u` (any value up to 0xFFFF, surrogates included) as WTF-8. */
void append_wtf8_unit(std::string& out, uint32_t u);
/** Appends code point `cp` (up to 0x10FFFF) as UTF-8. */
void append_utf8(std::string& out, uint32_t cp);

/** True when the WTF-8 string holds a lone surrogate. */
bool has_lone_surrogate(const uint8_t* s, size_t n);

/** Strict UTF-8 validation (as TextDecoder with fatal: true): no overlongs, surrogates or > U+10FFFF. */
bool valid_utf8(const uint8_t* s, size_t n);

}  // namespace tedge
