import type { JsonObject, JsonValue } from '../../core/json';
import { isJsonObject } from '../../core/json';

/**
 * Template expressions of thin-edge workflows: `${.}`, `${.topic}`, `${.topic.root_prefix|target|operation|cmd_id}`,
 * `${.payload}`, `${.payload.a.b}`, `${.payload.xs[-1]}`. An unknown payload path is the empty string (null);
 * an expression with an unknown root is left as written.
 */
export interface CommandView {
  readonly topic: string;
  /** Parts of the topic `<root>/<target: 4 segments>/cmd/<operation>/<cmd_id>`. */
  readonly rootPrefix: string;
  readonly target: string;
  readonly operation: string;
  readonly cmdId: string;
  readonly payload: JsonObject;
}

const EXPRESSION = /\$\{([^}]*)\}/g;

/** The value of one expression (the text between `${` and `}`); undefined: unknown root, keep it as written. */
export function evaluate(expr: string, view: CommandView): JsonValue | undefined {
  const e = expr.trim();
  if (e === '.') return { topic: view.topic, payload: view.payload };
  if (e === '.topic') return view.topic;
  if (e.startsWith('.topic.')) {
    switch (e.slice('.topic.'.length)) {
      case 'root_prefix':
        return view.rootPrefix;
      case 'target':
        return view.target;
      case 'operation':
        return view.operation;
      case 'cmd_id':
        return view.cmdId;
      default:
        return undefined;
    }
  }
  if (e === '.payload') return view.payload;
  if (e.startsWith('.payload.') || e.startsWith('.payload[')) {
    const path = parsePath(e.slice('.payload'.length));
    // A malformed path is an unknown path.
    return path === undefined ? null : (lookup(view.payload, path) ?? null);
  }
  return undefined;
}

/** `.a.b[-1].c` → ['a', 'b', -1, 'c']; undefined when malformed. */
export function parsePath(text: string): Array<string | number> | undefined {
  const out: Array<string | number> = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === '.') {
      let j = i + 1;
      while (j < text.length && text[j] !== '.' && text[j] !== '[') j++;
      const key = text.slice(i + 1, j);
      if (key === '') return undefined;
      out.push(key);
      i = j;
    } else if (text[i] === '[') {
      const end = text.indexOf(']', i);
      if (end < 0) return undefined;
      const n = Number(text.slice(i + 1, end));
      if (!Number.isInteger(n)) return undefined;
      out.push(n);
      i = end + 1;
    } else return undefined;
  }
  return out;
}

function lookup(value: JsonValue, path: ReadonlyArray<string | number>): JsonValue | undefined {
  let v: JsonValue | undefined = value;
  for (const step of path) {
    if (v === undefined) return undefined;
    if (typeof step === 'number') {
      if (!Array.isArray(v)) return undefined;
      v = v[step < 0 ? v.length + step : step];
    } else {
      if (!isJsonObject(v)) return undefined;
      v = Object.hasOwn(v, step) ? v[step] : undefined;
    }
  }
  return v;
}

/** As text inside a string: strings as they are, null (unknown) as "", anything else as JSON. */
export function render(value: JsonValue): string {
  if (value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Every `${…}` of `text` replaced by its value as text. */
export function substitute(text: string, view: CommandView): string {
  return text.replace(EXPRESSION, (whole, expr: string) => {
    const v = evaluate(expr, view);
    return v === undefined ? whole : render(v);
  });
}

/**
 * An `input` / `output` excerpt: a string that is exactly one expression gives that JSON value itself
 * (`input = "${.payload.@next.item.payload}"`); other strings are substituted; objects and arrays
 * are walked.
 */
export function extract(excerpt: JsonValue, view: CommandView): JsonValue {
  if (typeof excerpt === 'string') {
    const m = /^\$\{([^}]*)\}$/.exec(excerpt);
    if (m) {
      const v = evaluate(m[1] as string, view);
      return v === undefined ? excerpt : v;
    }
    return substitute(excerpt, view);
  }
  if (Array.isArray(excerpt)) return excerpt.map((e) => extract(e, view));
  if (isJsonObject(excerpt)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(excerpt)) out[k] = extract(v, view);
    return out;
  }
  return excerpt;
}
