import { ConversionError } from '../../core/errors';
import type { JsonValue } from '../../core/json';
import type { Measurement } from '../../core/measurement';
import { type Rfc3339, formatRfc3339 } from '../../core/timestamp';

export const DEFAULT_MEASUREMENT_TYPE = 'ThinEdgeMeasurement';

export interface MeasurementContext {
  /** The `<type>` of `te/<id>/m/<type>`; empty for `m/`. */
  readonly topicType: string;
  /** Unit of a series (`temperature`) or group member (`Climate.Humidity`), from `m/<type>/meta`. */
  readonly unitOf: (key: string) => string | undefined;
  readonly externalSource?: { readonly externalId: string; readonly type: 'c8y_Serial' };
  readonly now: Date;
}

/** Fragment names the Cumulocity measurement itself uses; a series of that name would clobber them. */
const RESERVED_SERIES = new Set(['type', 'time', 'externalSource']);

function valueFragment(value: number, unit: string | undefined): { value: number; unit?: string } {
  return unit === undefined ? { value } : { value, unit };
}

/**
 * Thin Edge JSON measurement → Cumulocity measurement JSON (§2.2): each series becomes
 * `"k":{"k":{"value":v,"unit":u}}`, groups `"G":{"m":{"value":v}}`; `properties` are merged at top level.
 * This is the TS reference of the contract the native converter implements byte for byte.
 */
export function toC8yMeasurement(m: Measurement, ctx: MeasurementContext): string {
  const out: { [key: string]: JsonValue } = {};
  if (ctx.externalSource) out['externalSource'] = { ...ctx.externalSource };
  out['type'] = m.type ?? (ctx.topicType !== '' ? ctx.topicType : DEFAULT_MEASUREMENT_TYPE);
  const time: Rfc3339 = m.time ?? formatRfc3339(ctx.now);
  out['time'] = time;
  for (const s of m.series) {
    if (RESERVED_SERIES.has(s.name)) throw new ConversionError(`Invalid JSON: "${s.name}" cannot be used as a measurement name`);
    if (s.kind === 'single') {
      out[s.name] = { [s.name]: valueFragment(s.value, ctx.unitOf(s.name)) };
    } else {
      const group: { [key: string]: JsonValue } = {};
      for (const member of s.members) group[member.name] = valueFragment(member.value, ctx.unitOf(`${s.name}.${member.name}`));
      out[s.name] = group;
    }
  }
  if (typeof m.properties === 'object' && m.properties !== null && !Array.isArray(m.properties)) {
    for (const [key, value] of Object.entries(m.properties)) if (!(key in out)) out[key] = value;
  }
  return JSON.stringify(out);
}

/** The c8y mapper's limit on a converted measurement (c8y.mapper.mqtt.max_payload_size). */
export function checkMeasurementSize(payload: Uint8Array, maxPayloadSize: number): void {
  if (payload.length > maxPayloadSize) {
    throw new ConversionError(`The measurement is ${payload.length} bytes once converted, above the limit of ${maxPayloadSize}`);
  }
}
