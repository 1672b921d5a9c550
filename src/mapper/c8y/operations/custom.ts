import type { JsonObject, JsonValue } from '../../../core/json';

const WHOLE = /^\$\{\.payload((?:\.[^.}]+)*)\}$/;
const EMBEDDED = /\$\{\.payload((?:\.[^.}]+)*)\}/g;

function lookup(root: JsonObject, path: string): JsonValue | undefined {
  let v: JsonValue | undefined = root;
  for (const key of path.split('.').filter((k) => k !== '')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = v[key];
  }
  return v;
}

/**
 * Fills `${.payload.<path>}` from the Cumulocity operation, as thin-edge does for `[exec.workflow] input`.
 * A string that is only a reference takes the referenced value with its JSON type; a reference inside
 * text is replaced by its text. Unknown paths are left as written, so the mistake shows in the command.
 */
export function substitute(template: JsonValue, operation: JsonObject): JsonValue {
  if (typeof template === 'string') {
    const whole = WHOLE.exec(template);
    if (whole) return lookup(operation, whole[1] ?? '') ?? template;
    return template.replace(EMBEDDED, (ref: string, path: string) => {
      const v = lookup(operation, path);
      if (v === undefined) return ref;
      return typeof v === 'string' ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(template)) return template.map((t) => substitute(t, operation));
  if (template !== null && typeof template === 'object') {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(template)) out[k] = substitute(v, operation);
    return out;
  }
  return template;
}
