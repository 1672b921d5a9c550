import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TedgeError } from '../core/errors';
import { type IniEntry, parseIniFile, renderIniFile } from './ini-file';
import { profileName } from './profiles';
import { type TomlTable, parseToml, stringifyToml } from './toml';
import type { ValueType } from './value-types';

export const INI_FILE_NAME = 'tedge.ini';
/** thin-edge's file: read and written in place when it is the only one, so a migrated device keeps its tools. */
export const TOML_FILE_NAME = 'tedge.toml';

export interface ConfigFile {
  readonly kind: 'ini' | 'toml';
  readonly path: string;
}

/**
 * The file that holds the configuration: tedge.ini, or tedge.toml when only that one exists (a device
 * taken over from thin-edge.io). Both present is refused, naming both: two files that may disagree
 * must not be merged by a rule the user cannot see (a tedge.ini without any key does not count).
 * Neither: tedge.ini, created on the first set.
 */
export function locateConfigFile(configDir: string): ConfigFile {
  const ini = join(configDir, INI_FILE_NAME);
  const toml = join(configDir, TOML_FILE_NAME);
  const hasToml = existsSync(toml);
  // The package's tedge.ini holds only comments: installed on a device that has thin-edge's tedge.toml, it must not hide it.
  if (hasToml && existsSync(ini) && holdsValues(ini)) {
    throw new TedgeError('CONFIG_FILE', `both ${ini} and ${toml} exist: remove one (tedge config convert-toml moves ${TOML_FILE_NAME} into ${INI_FILE_NAME} when ${INI_FILE_NAME} is absent)`);
  }
  return hasToml ? { kind: 'toml', path: toml } : { kind: 'ini', path: ini };
}

function holdsValues(iniPath: string): boolean {
  return parseIniFile(iniPath, readFileSync(iniPath, 'utf8')).size > 0;
}

/** A file's values as dotted keys; `document` is the parsed TOML, kept so that writing it back keeps what we do not know. */
export interface FileContents {
  readonly values: Map<string, IniEntry>;
  readonly document?: TomlTable;
}

export function readConfigFile(file: ConfigFile): FileContents {
  if (!existsSync(file.path)) return { values: new Map() };
  let text: string;
  try {
    text = readFileSync(file.path, 'utf8');
  } catch (cause) {
    throw new TedgeError('CONFIG_FILE', `cannot read ${file.path}: ${(cause as Error).message}`, { cause });
  }
  if (file.kind === 'ini') return { values: parseIniFile(file.path, text) };
  const document = parseToml(text, file.path);
  return { values: flattenToml(document), document };
}

/** TOML tables become dotted keys, arrays the comma-separated text the INI file holds; lines are unknown (0). */
export function flattenToml(table: TomlTable, prefix = '', into = new Map<string, IniEntry>()): Map<string, IniEntry> {
  for (const [name, value] of Object.entries(table)) {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    if (isTable(value)) flattenToml(value, key, into);
    else into.set(key, { text: tomlText(value), line: 0 });
  }
  return into;
}

function isTable(value: unknown): value is TomlTable {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function tomlText(value: unknown): string {
  if (Array.isArray(value)) return value.map(tomlText).join(',');
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

/** How a value is written to tedge.toml: with the TOML type thin-edge's reader expects for its key. */
function tomlValue(text: string, type: ValueType | undefined): unknown {
  switch (type) {
    case 'boolean':
      return text === 'true';
    case 'integer':
    case 'port':
      return Number(text);
    case 'string-list':
      return text.split(',').filter((s) => s !== '');
    default:
      return text;
  }
}

/**
 * Writes `values` (dotted keys → text) atomically (temp file + rename). For tedge.toml the parsed
 * document is updated key by key (set, changed, removed), so tables and keys we do not know stay as
 * they were; comments are not kept (the TOML parser does not keep them).
 */
export function writeConfigFile(
  file: ConfigFile,
  values: ReadonlyMap<string, string>,
  unknown: ReadonlyMap<string, string>,
  typeOf: (key: string) => ValueType | undefined,
  document?: TomlTable,
): void {
  let text: string;
  if (file.kind === 'ini') {
    text = renderIniFile(new Map([...values, ...unknown]));
  } else {
    // Unknown keys are left in the document as they are, with their TOML types.
    const doc = structuredClone(document ?? {});
    for (const key of flattenToml(doc).keys()) if (!values.has(key) && !unknown.has(key)) deletePath(doc, key.split('.'));
    for (const [key, value] of values) setPath(doc, key.split('.'), tomlValue(value, typeOf(key)));
    text = stringifyToml(doc);
  }
  mkdirSync(dirname(file.path), { recursive: true });
  const tmp = `${file.path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, file.path);
}

function setPath(doc: TomlTable, path: readonly string[], value: unknown): void {
  let table = doc;
  for (const name of path.slice(0, -1)) {
    const next = table[name];
    if (!isTable(next)) table[name] = {};
    table = table[name] as TomlTable;
  }
  table[path[path.length - 1] ?? ''] = value;
}

/** Removes a key and the tables it leaves empty. */
function deletePath(doc: TomlTable, path: readonly string[]): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (rest.length === 0) {
    delete doc[head];
    return;
  }
  const next = doc[head];
  if (!isTable(next)) return;
  deletePath(next, rest);
  if (Object.keys(next).length === 0) delete doc[head];
}

/**
 * `tedge config convert-toml`: tedge.toml's settings, unknown keys included, written as tedge.ini;
 * tedge.toml is then renamed `tedge.toml.converted`, so that one file holds the configuration.
 */
export function convertTomlToIni(configDir: string): { readonly from: string; readonly to: string; readonly keptAs: string; readonly keys: number } {
  const toml = join(configDir, TOML_FILE_NAME);
  const ini = join(configDir, INI_FILE_NAME);
  if (!existsSync(toml)) throw new TedgeError('CONFIG_FILE', `there is no ${toml} to convert`);
  if (existsSync(ini) && holdsValues(ini)) throw new TedgeError('CONFIG_FILE', `${ini} exists already: remove it or ${toml} first (nothing was changed)`);
  const { values } = readConfigFile({ kind: 'toml', path: toml });
  const texts = new Map([...values].map(([k, v]) => [k, v.text]));
  writeConfigFile({ kind: 'ini', path: ini }, texts, new Map(), () => undefined);
  const keptAs = `${toml}.converted`;
  renameSync(toml, keptAs);
  return { from: toml, to: ini, keptAs, keys: texts.size };
}

/** thin-edge 2.x's per-cloud files: `mappers/<cloud>/mapper.toml`, `mappers/<cloud>.<profile>/mapper.toml`. */
export interface MapperConfigFile {
  readonly path: string;
  /** Where its keys go: `c8y.` or `c8y.profiles.<profile>.` */
  readonly keyPrefix: string;
  readonly values: Map<string, IniEntry>;
}

/**
 * Reads thin-edge 2.x's mapper configuration files, whose keys are those of their cloud's section
 * (`url`, `bridge.topic_prefix`); `cloud_type` only says which cloud and is dropped.
 */
export function readMapperConfigs(configDir: string): MapperConfigFile[] {
  const dir = join(configDir, 'mappers');
  if (!existsSync(dir)) return [];
  const files: MapperConfigFile[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const m = /^(c8y|az|aws)(?:\.([^.]+))?$/.exec(entry);
    const path = join(dir, entry, 'mapper.toml');
    if (m === null || !existsSync(path)) continue;
    const profile = m[2] === undefined ? undefined : profileName(m[2]);
    const values = flattenToml(parseToml(readFileSync(path, 'utf8'), path));
    values.delete('cloud_type');
    files.push({ path, keyPrefix: profile === undefined ? `${m[1]}.` : `${m[1]}.profiles.${profile}.`, values });
  }
  return files;
}
