import { ConversionError } from './errors';
import { type JsonObject, isJsonObject, parseJson, jsonTypeName } from './json';
import { type Rfc3339, parseTimeField } from './timestamp';

/** Event payload (§1.4): text/time/type are known, every other key is a custom fragment. */
export interface TedgeEvent {
  readonly text?: string;
  readonly time?: Rfc3339;
  readonly type?: string;
  readonly fragments: JsonObject;
}

export type AlarmSeverity = 'critical' | 'major' | 'minor' | 'warning';

/** Alarm payload (§1.4); an empty retained payload clears the alarm. */
export type TedgeAlarm =
  | { readonly kind: 'clear' }
  | {
      readonly kind: 'raise';
      readonly text?: string;
      readonly time?: Rfc3339;
      /** Unknown or missing severities are kept undefined; the cloud mapper picks its default. */
      readonly severity?: AlarmSeverity;
      readonly fragments: JsonObject;
    };

const SEVERITIES: ReadonlySet<string> = new Set(['critical', 'major', 'minor', 'warning']);

function objectPayload(text: string, what: string): JsonObject {
  const json = parseJson(text);
  if (!isJsonObject(json)) throw new ConversionError(`Invalid JSON: invalid type: ${jsonTypeName(json)}, expected ${what}`);
  return json;
}

function optionalString(obj: JsonObject, key: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ConversionError(`Invalid JSON: "${key}" must be a string, got ${jsonTypeName(v)}`);
  return v;
}

function splitKnown(obj: JsonObject, known: readonly string[]): JsonObject {
  const fragments: JsonObject = {};
  for (const [k, v] of Object.entries(obj)) if (!known.includes(k)) fragments[k] = v;
  return fragments;
}

export function parseEvent(text: string): TedgeEvent {
  const obj = text.trim() === '' ? {} : objectPayload(text, 'a Thin Edge event');
  const e: { text?: string; time?: Rfc3339; type?: string; fragments: JsonObject } = {
    fragments: splitKnown(obj, ['text', 'time', 'type']),
  };
  const t = optionalString(obj, 'text');
  if (t !== undefined) e.text = t;
  if (obj['time'] !== undefined) e.time = parseTimeField(obj['time']);
  const type = optionalString(obj, 'type');
  if (type) e.type = type;
  return e;
}

export function parseAlarm(text: string): TedgeAlarm {
  if (text.length === 0) return { kind: 'clear' };
  const obj = objectPayload(text, 'a Thin Edge alarm');
  const a: { kind: 'raise'; text?: string; time?: Rfc3339; severity?: AlarmSeverity; fragments: JsonObject } = {
    kind: 'raise',
    fragments: splitKnown(obj, ['text', 'time', 'severity']),
  };
  const t = optionalString(obj, 'text');
  if (t !== undefined) a.text = t;
  if (obj['time'] !== undefined) a.time = parseTimeField(obj['time']);
  const severity = optionalString(obj, 'severity')?.toLowerCase();
  if (severity !== undefined && SEVERITIES.has(severity)) a.severity = severity as AlarmSeverity;
  return a;
}
