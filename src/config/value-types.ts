import { TedgeError } from '../core/errors';
import { isEntityTopicId } from '../core/topics';

/** The value kinds a config key can hold. Every kind validates its text form with a clear error. */
export type ValueType = 'string' | 'path' | 'integer' | 'port' | 'boolean' | 'string-list' | 'duration' | 'topic-id' | 'host-port' | 'url';

export type ConfigValue = string | number | boolean | readonly string[];

const DURATION = /^(\d+)(ms|s|m|h|d)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "5s", "10m", "365d", bare numbers are seconds (thin-edge's humantime subset). */
export function durationMs(text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new Error(`expected a duration such as 30s, 5m, 1h or 365d`);
  return Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 1000);
}

function checkText(type: ValueType, text: string): ConfigValue {
  switch (type) {
    case 'string':
    case 'path':
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
  }
}

/** Parses the text form of a value, naming the key and the expected kind on error. */
export function parseValue(key: string, type: ValueType, text: string): ConfigValue {
  try {
    return checkText(type, text);
  } catch (e) {
    throw new TedgeError('CONFIG_INVALID_VALUE', `invalid value '${text}' for '${key}': ${(e as Error).message}`);
  }
}

export function formatValue(value: ConfigValue): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}
