import { type JsonObject, type JsonValue, isJsonObject } from '../../../core/json';
import { substitute } from './custom';

/**
 * thin-edge marks a command it creates for a custom Cumulocity operation with
 * `"c8y-mapper": {"on_fragment": "<c8y operation>", "output": <excerpt>}`: the command itself then says how to
 * report it, so statuses are reported after a mapper restart, or for an operation mapped by a template file.
 */
export const MARKER_KEY = 'c8y-mapper';

export function marker(onFragment: string, output: JsonValue | undefined): JsonObject {
  return { on_fragment: onFragment, output: output ?? null };
}

/** The Cumulocity operation name a marked command reports under. */
export function markedName(payload: JsonObject): string | undefined {
  const m = payload[MARKER_KEY];
  const name = isJsonObject(m) ? m['on_fragment'] : undefined;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/**
 * The parameters of the 503/506 of a successful custom command: the marker's `output` excerpt taken from the
 * final payload (`"${.payload.result}"` → one text field, a list → one field per item), else a `result` text.
 * Numbers, booleans and objects cannot be SmartREST fields: the operation fails, as in thin-edge.
 */
export function customOutput(payload: JsonObject): { readonly params: string[] } | { readonly error: string } {
  const m = payload[MARKER_KEY];
  const template = isJsonObject(m) ? m['output'] : undefined;
  if (template === undefined || template === null) {
    const result = payload['result'];
    return { params: typeof result === 'string' && result !== '' ? [result] : [] };
  }
  const value = substitute(template, payload);
  if (value === null) return { params: [] };
  if (typeof value === 'string') return { params: value === '' ? [] : [value] };
  if (Array.isArray(value)) return { params: value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))) };
  return { error: "'output' supports only String or Array" };
}
