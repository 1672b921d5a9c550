import { ConversionError } from './errors';

/** Deepest JSON nesting any `te/` payload may have; deeper input is rejected before JSON.parse sees it. */
export const MAX_JSON_DEPTH = 64;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * Refuses pathological nesting cheaply (one scan, no recursion) so that a hostile 1 MB payload
 * of brackets costs a linear pass, not a deep parse.
 */
function checkDepth(text: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) throw new ConversionError(`Invalid JSON: nesting deeper than ${MAX_JSON_DEPTH} levels`);
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}

/** JSON.parse with the project's error wording: "Invalid JSON: <cause>". */
export function parseJson(text: string): JsonValue {
  checkDepth(text);
  try {
    return JSON.parse(text) as JsonValue;
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new ConversionError(`Invalid JSON: ${text.trim() === '' ? 'EOF while parsing a value' : detail}`, { cause });
  }
}

export function isJsonObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses text that must be a JSON object; `what` names the expected kind of payload in the error. */
export function parseJsonObject(text: string, what: string): JsonObject {
  const value = parseJson(text);
  if (!isJsonObject(value)) {
    throw new ConversionError(`Invalid JSON: invalid type: ${jsonTypeName(value)}, expected ${what}`);
  }
  return value;
}

export function jsonTypeName(v: JsonValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'sequence';
  if (typeof v === 'object') return 'map';
  if (typeof v === 'boolean') return `boolean \`${v}\``;
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  return `number ${v}`;
}
