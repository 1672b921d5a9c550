import { ConversionError } from './errors';
import { type JsonObject, type JsonValue, jsonTypeName, parseJson } from './json';
import { type Rfc3339, parseTimeField } from './timestamp';

/** A Thin Edge JSON measurement after validation (spec §2.1). */
export interface Measurement {
  readonly time?: Rfc3339;
  /** A string `type` in the payload overrides the topic's measurement type. */
  readonly type?: string;
  /** Passed through unchanged to the cloud. */
  readonly properties?: JsonValue;
  readonly series: readonly MeasurementSeries[];
}

export type MeasurementSeries =
  | { readonly kind: 'single'; readonly name: string; readonly value: number }
  | { readonly kind: 'group'; readonly name: string; readonly members: ReadonlyArray<{ readonly name: string; readonly value: number }> };

const RESERVED = new Set(['time', 'type', 'properties']);

function numberValue(value: JsonValue, key: string): number {
  if (typeof value === 'number') {
    // JSON.parse turns 10e99999 into Infinity: out of f64 range, as thin-edge says.
    if (!Number.isFinite(value)) throw new ConversionError(`Invalid JSON: number out of range for "${key}"`);
    return value;
  }
  throw new ConversionError(
    `Invalid JSON: invalid type: ${jsonTypeName(value)}, expected ThinEdge single or multi-value measurement for "${key}"`,
  );
}

function groupMembers(name: string, group: JsonObject): Array<{ name: string; value: number }> {
  const members: Array<{ name: string; value: number }> = [];
  for (const [key, value] of Object.entries(group)) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      throw new ConversionError(`Invalid JSON: Expect single-value measurement: "${name}.${key}" is nested too deep`);
    }
    members.push({ name: key, value: numberValue(value, `${name}.${key}`) });
  }
  if (members.length === 0) {
    throw new ConversionError(`Invalid JSON: Empty Thin Edge measurement: "${name}" must contain at least one measurement`);
  }
  return members;
}

/** Validates a decoded payload; throws ConversionError naming the cause. */
export function measurementFromJson(json: JsonValue): Measurement {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ConversionError(`Invalid JSON: invalid type: ${jsonTypeName(json)}, expected ThinEdge JSON`);
  }
  const series: MeasurementSeries[] = [];
  let time: Rfc3339 | undefined;
  let type: string | undefined;
  let properties: JsonValue | undefined;
  for (const [key, value] of Object.entries(json)) {
    if (key === 'time') {
      time = parseTimeField(value);
    } else if (key === 'type' && typeof value === 'string') {
      type = value;
    } else if (key === 'properties') {
      properties = value;
    } else if (typeof value === 'string' && !RESERVED.has(key)) {
      // Top-level strings are tolerated and ignored (thin-edge compatibility).
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      series.push({ kind: 'group', name: key, members: groupMembers(key, value) });
    } else {
      series.push({ kind: 'single', name: key, value: numberValue(value, key) });
    }
  }
  if (series.length === 0) {
    throw new ConversionError('Invalid JSON: Empty Thin Edge measurement: it must contain at least one measurement');
  }
  const m: { time?: Rfc3339; type?: string; properties?: JsonValue; series: MeasurementSeries[] } = { series };
  if (time !== undefined) m.time = time;
  if (type !== undefined) m.type = type;
  if (properties !== undefined) m.properties = properties;
  return m;
}

export function parseMeasurement(text: string): Measurement {
  return measurementFromJson(parseJson(text));
}

/** f64 as thin-edge prints it: integers keep a `.0` (used by the fixture suite's normalised form). */
function formatF64(n: number): string {
  const s = String(n);
  return Number.isInteger(n) && !/[e.]/.test(s) ? `${s}.0` : s;
}

/** The normalised form of the shared fixtures: time first, then series in input order. */
export function formatNormalised(m: Measurement): string {
  const parts: string[] = [];
  if (m.time !== undefined) parts.push(`"time":${JSON.stringify(m.time)}`);
  for (const s of m.series) {
    if (s.kind === 'single') parts.push(`${JSON.stringify(s.name)}:${formatF64(s.value)}`);
    else parts.push(`${JSON.stringify(s.name)}:{${s.members.map((x) => `${JSON.stringify(x.name)}:${formatF64(x.value)}`).join(',')}}`);
  }
  return `{${parts.join(',')}}`;
}
