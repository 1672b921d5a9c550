import { ConversionError, TedgeError, errorMessage } from '../../core/errors';
import type { JsonObject } from '../../core/json';
import { formatRfc3339, fromUnixSeconds, parseRfc3339 } from '../../core/timestamp';
import { appendTopLevelMember, setTopLevelMember } from './json-members';

/** `az.mapper.timestamp_format`, `aws.mapper.timestamp_format`. */
export type TimeFormat = 'unix' | 'rfc-3339';

/** Accepts thin-edge's spellings (`rfc3339` is an alias); anything else is a configuration error. */
export function parseTimeFormat(text: string, key: string): TimeFormat {
  if (text === 'unix') return 'unix';
  if (text === 'rfc-3339' || text === 'rfc3339') return 'rfc-3339';
  throw new TedgeError('CONFIG_INVALID_VALUE', `'${key}': unknown time format '${text}': supported values are 'rfc-3339' or 'unix'`);
}

/** Unix seconds as a JSON number, with the milliseconds a Date has (thin-edge writes f64 seconds). */
function unixJson(date: Date): string {
  return String(date.getTime() / 1000);
}

function instantOf(value: unknown): Date {
  if (typeof value === 'number') return new Date(fromUnixSeconds(value));
  if (typeof value === 'string') {
    // Date keeps milliseconds: finer digits are cut before parsing.
    const date = new Date(parseRfc3339(value).replace(/\.(\d{3})\d+/, '.$1'));
    if (Number.isNaN(date.getTime())) throw new ConversionError(`not a point in time: ${JSON.stringify(value)}`);
    return date;
  }
  throw new ConversionError(`expected a unix timestamp or an RFC 3339 string, found ${value === null ? 'null' : typeof value}`);
}

/**
 * thin-edge's builtin `add-timestamp {property = "time", reformat = true}` step on the text of a
 * JSON object: adds `time` (now) when missing; converts an existing `time` that is not already
 * in `format` (a number is unix, a string is RFC 3339, as thin-edge judges it: by type only).
 * Every other byte of the payload is kept.
 */
export function addTimestamp(text: string, payload: JsonObject, now: Date, format: TimeFormat): string {
  const current = payload['time'];
  if (current === undefined) return appendTopLevelMember(text, 'time', format === 'unix' ? unixJson(now) : JSON.stringify(formatRfc3339(now)));
  if (format === 'unix' && typeof current === 'number') return text;
  if (format === 'rfc-3339' && typeof current === 'string') return text;
  let instant: Date;
  try {
    instant = instantOf(current);
  } catch (cause) {
    throw new ConversionError(`Failed to format message timestamp as ${format}: ${errorMessage(cause)}`, { cause });
  }
  return setTopLevelMember(text, 'time', format === 'unix' ? unixJson(instant) : JSON.stringify(formatRfc3339(instant)));
}
