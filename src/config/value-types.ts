import { isIP } from 'node:net';
import { isAbsolute } from 'node:path';
import { TedgeError } from '../core/errors';
import { isEntityTopicId } from '../core/topics';

/** The value kinds a config key can hold. Every kind validates its text form with a clear error. */
export type ValueType =
  | 'string'
  | 'path'
  | 'integer'
  | 'port'
  | 'boolean'
  | 'string-list'
  | 'duration'
  | 'topic-id'
  | 'host-port'
  | 'url'
  | 'ip-address'
  | 'enum'
  | 'topic-prefix';

export type ConfigValue = string | number | boolean | readonly string[];

/** humantime's units (what thin-edge parses durations with), in milliseconds. */
const UNIT_MS: Readonly<Record<string, number>> = (() => {
  const table: Array<[readonly string[], number]> = [
    [['nsec', 'ns'], 1e-6],
    [['usec', 'us'], 1e-3],
    [['msec', 'ms'], 1],
    [['seconds', 'second', 'secs', 'sec', 's'], 1000],
    [['minutes', 'minute', 'mins', 'min', 'm'], 60_000],
    [['hours', 'hour', 'hrs', 'hr', 'h'], 3_600_000],
    [['days', 'day', 'd'], 86_400_000],
    [['weeks', 'week', 'w'], 7 * 86_400_000],
    [['months', 'month', 'M'], 2_630_016_000],
    [['years', 'year', 'y'], 31_557_600_000],
  ];
  return Object.fromEntries(table.flatMap(([names, ms]) => names.map((n) => [n, ms])));
})();

/**
 * Durations as thin-edge reads them: a bare number of seconds (`300`), or humantime's
 * `<number><unit>` pieces, optionally separated by spaces (`1h 30m`, `2days`, `500ms`).
 */
export function durationMs(text: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const piece = /(\d+)\s*([a-zA-Z]+)\s*/y;
  let total = 0;
  let at = 0;
  while (at < trimmed.length) {
    piece.lastIndex = at;
    const m = piece.exec(trimmed);
    const ms = m === null ? undefined : UNIT_MS[m[2] ?? ''];
    if (m === null || ms === undefined) throw new Error(`expected a duration such as 30s, 5m, 1h 30m, 365d or a number of seconds`);
    total += Number(m[1]) * ms;
    at = piece.lastIndex;
  }
  if (at === 0) throw new Error(`expected a duration such as 30s, 5m, 1h 30m, 365d or a number of seconds`);
  return Math.round(total);
}

/** What a key's type needs beyond its kind: the allowed words of an enum. */
export interface TypeDetail {
  readonly values?: readonly string[];
}

function checkText(type: ValueType, text: string, detail: TypeDetail): ConfigValue {
  switch (type) {
    case 'string':
      return text;
    case 'path':
      // thin-edge's AbsolutePath: a relative path would depend on the daemon's working directory.
      if (!isAbsolute(text)) throw new Error('expected an absolute path');
      return text;
    case 'url':
      if (/\s/.test(text) || text === '') throw new Error('expected a host name or URL without spaces');
      return text;
    case 'integer': {
      if (!/^-?\d+$/.test(text.trim())) throw new Error('expected an integer');
      return Number(text);
    }
    case 'port': {
      const n = Number(text);
      if (!/^\d+$/.test(text.trim()) || n < 1 || n > 65535) throw new Error('expected a port number from 1 to 65535');
      return n;
    }
    case 'boolean':
      if (text === 'true') return true;
      if (text === 'false') return false;
      throw new Error('expected true or false');
    case 'string-list':
      return text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    case 'duration':
      durationMs(text);
      return text.trim();
    case 'topic-id':
      if (!isEntityTopicId(text)) throw new Error('expected an entity topic id with 4 segments, such as device/main//');
      return text;
    case 'host-port': {
      const m = /^(.+):(\d+)$/.exec(text);
      if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new Error('expected HOST:PORT');
      return text;
    }
    case 'ip-address':
      if (isIP(text) === 0) throw new Error('expected an IPv4 or IPv6 address, such as 127.0.0.1 or ::1');
      return text;
    case 'enum': {
      const values = detail.values ?? [];
      if (!values.includes(text)) throw new Error(`expected one of: ${values.join(', ')}`);
      return text;
    }
    case 'topic-prefix':
      // thin-edge's TopicPrefix: one that cannot match more than its own topics, nor the mapper's internal one.
      if (text === '' || /[#+]/.test(text) || text.includes('/') || text === 'c8y-internal') throw new Error('expected one topic level without wildcards (not c8y-internal)');
      return text;
  }
}

/** Parses the text form of a value, naming the key and the expected kind on error. */
export function parseValue(key: string, type: ValueType, text: string, detail: TypeDetail = {}): ConfigValue {
  try {
    return checkText(type, text, detail);
  } catch (e) {
    throw new TedgeError('CONFIG_INVALID_VALUE', `invalid value '${text}' for '${key}': ${(e as Error).message}`);
  }
}

export function formatValue(value: ConfigValue): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}
