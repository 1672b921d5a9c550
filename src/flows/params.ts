import { TedgeError } from '../core/errors';

/** The values `${params.*}` and `${mapper.*}` expressions are taken from. */
export interface Substitutions {
  readonly params: Record<string, unknown>;
  readonly mapper: Record<string, unknown>;
}

const WHOLE = /^\$\{(params|mapper)\.([A-Za-z0-9_.-]+)\}$/;
const PART = /\$\{(params|mapper)\.([A-Za-z0-9_.-]+)\}/g;

function lookup(subs: Substitutions, scope: string, path: string, where: string): unknown {
  let value: unknown = scope === 'params' ? subs.params : subs.mapper;
  for (const key of path.split('.')) {
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  }
  if (value === undefined) throw new TedgeError('CONFIG_INVALID_VALUE', `${where}: no value for \${${scope}.${path}}`);
  return value;
}

/**
 * In a string built from parts (topics, commands, paths, intervals) every `${params.x}` is replaced by
 * the value's text, so several parameters can make one topic.
 */
export function substituteText(text: string, subs: Substitutions, where: string): string {
  return text.replace(PART, (_m, scope: string, path: string) => {
    const value = lookup(subs, scope, path, where);
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}

/**
 * In a config object, a property whose whole value is one expression takes the parameter's value with its
 * type (number, array, table); a string with expressions among other text is substituted as text.
 */
export function substituteConfig(value: unknown, subs: Substitutions, where: string): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) return lookup(subs, whole[1] as string, whole[2] as string, where);
    return substituteText(value, subs, where);
  }
  if (Array.isArray(value)) return value.map((v) => substituteConfig(v, subs, where));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteConfig(v, subs, where);
    return out;
  }
  return value;
}

/** `params.toml.template` gives the defaults, `params.toml` the user's values, merged table by table. */
export function mergeParams(defaults: Record<string, unknown>, user: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(user)) {
    const d = out[k];
    const bothTables = d !== null && typeof d === 'object' && !Array.isArray(d) && v !== null && typeof v === 'object' && !Array.isArray(v);
    out[k] = bothTables ? mergeParams(d as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}
