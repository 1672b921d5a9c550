import { ConversionError } from './errors';

/** A point in time as the source wrote it, normalised to RFC 3339 text (offset and precision kept). */
export type Rfc3339 = string;

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

function invalid(value: string, component: string): ConversionError {
  return new ConversionError(
    `Invalid ISO8601 timestamp (expected YYYY-MM-DDThh:mm:ss.sss.±hh:mm): ${JSON.stringify(value)}: the '${component}' component could not be parsed`,
  );
}

/** Names the first component that is wrong, as thin-edge's parser does. */
function firstBadComponent(value: string): string {
  const parts: Array<[string, RegExp]> = [
    ['year', /^\d{4}/],
    ['month', /^\d{4}-\d{2}/],
    ['day', /^\d{4}-\d{2}-\d{2}/],
    ['separator', /^\d{4}-\d{2}-\d{2}[Tt ]/],
    ['hour', /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}/],
    ['minute', /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}/],
    ['second', /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}/],
  ];
  for (const [name, re] of parts) if (!re.test(value)) return name;
  return 'offset';
}

export function parseRfc3339(value: string): Rfc3339 {
  const m = RFC3339.exec(value);
  if (!m) throw invalid(value, firstBadComponent(value));
  const [month, day, hour, minute, second] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  if (month < 1 || month > 12) throw invalid(value, 'month');
  if (day < 1 || day > 31) throw invalid(value, 'day');
  if (hour > 23) throw invalid(value, 'hour');
  if (minute > 59) throw invalid(value, 'minute');
  if (second > 60) throw invalid(value, 'second');
  const offset = m[8] ?? 'Z';
  if (offset.length === 6 && (Number(offset.slice(1, 3)) > 23 || Number(offset.slice(4)) > 59)) throw invalid(value, 'offset');
  if (Number.isNaN(Date.parse(value.replace(/\.(\d{3})\d+/, '.$1')))) throw invalid(value, 'day');
  return value;
}

/** Unix seconds (fraction allowed) to RFC 3339 in UTC, e.g. 1619802194 → 2021-04-30T17:03:14Z. */
export function fromUnixSeconds(seconds: number): Rfc3339 {
  // RFC 3339 writes four-digit years: 0000-01-01T00:00:00Z … 9999-12-31T23:59:59.999Z. Beyond, JavaScript
  // writes an expanded year ('+010000-…') that no RFC 3339 reader takes, and the same instant as a string is refused.
  if (!Number.isFinite(seconds) || seconds < MIN_UNIX_SECONDS || seconds >= MAX_UNIX_SECONDS) {
    throw new ConversionError(`Invalid unix timestamp: ${seconds}: outside the years 0000 to 9999 that RFC 3339 can write`);
  }
  return formatRfc3339(new Date(seconds * 1000));
}

/** 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z in unix seconds. */
const MIN_UNIX_SECONDS = -62167219200;
const MAX_UNIX_SECONDS = 253402300800;

/** RFC 3339 in UTC, with milliseconds only when there are some. */
export function formatRfc3339(date: Date): Rfc3339 {
  return date.toISOString().replace('.000Z', 'Z');
}

/** Accepts what Thin Edge JSON accepts for `time`: an RFC 3339 string or unix seconds. */
export function parseTimeField(value: unknown): Rfc3339 {
  if (typeof value === 'string') return parseRfc3339(value);
  if (typeof value === 'number') return fromUnixSeconds(value);
  throw new ConversionError(`Invalid JSON: invalid type for "time": expected an RFC 3339 string or unix seconds`);
}
