import ini from 'ini';
import { TedgeError } from '../core/errors';

/** A value read from tedge.ini and the line it is on, so that an error can point at it. */
export interface IniEntry {
  readonly text: string;
  readonly line: number;
}

/**
 * Reads tedge.ini line by line: `[section]` headers and `key = value` lines give dotted keys
 * (`[c8y.smartrest]` + `use_operation_id` → `c8y.smartrest.use_operation_id`); `;` and `#` start comments.
 * A line that is neither is an error naming the file and line (it used to be skipped in silence).
 * Flat, unlike the `ini` package's nesting, where a parent section written after a child section
 * (`[c8y.smartrest.child_device]` then `[c8y.smartrest]`) replaced the child's keys.
 * Values are unquoted as the `ini` package quotes them on write.
 */
export function parseIniFile(path: string, text: string): Map<string, IniEntry> {
  const values = new Map<string, IniEntry>();
  let section = '';
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    const header = /^\[([^\]]*)\]$/.exec(line);
    if (header) {
      section = (header[1] ?? '').trim();
      if (section === '') throw new TedgeError('CONFIG_FILE', `${path}:${i + 1}: empty section name '[]'`);
      continue;
    }
    const eq = line.indexOf('=');
    const key = eq > 0 ? line.slice(0, eq).trim() : '';
    if (key === '') throw new TedgeError('CONFIG_FILE', `${path}:${i + 1}: cannot parse '${truncate(line)}': expected [section] or key = value`);
    values.set(section === '' ? key : `${section}.${key}`, { text: ini.unsafe(line.slice(eq + 1).trim()), line: i + 1 });
  }
  return values;
}

function truncate(line: string): string {
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}

/** tedge.ini text: one `[section]` per key prefix, keys sorted, values quoted by the `ini` package where needed. */
export function renderIniFile(values: ReadonlyMap<string, string>): string {
  const tree = new Map<string, Array<[string, string]>>();
  for (const [key, value] of [...values].sort(([a], [b]) => a.localeCompare(b))) {
    const dot = key.lastIndexOf('.');
    const section = key.slice(0, dot);
    const entries = tree.get(section) ?? [];
    entries.push([key.slice(dot + 1), value]);
    tree.set(section, entries);
  }
  return [...tree].map(([section, entries]) => `[${section}]\n${entries.map(([k, v]) => `${k} = ${ini.safe(v)}`).join('\n')}\n`).join('\n');
}
