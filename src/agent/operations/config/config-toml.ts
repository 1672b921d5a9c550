import { parseToml } from '../../../config/toml';
import { errorMessage } from '../../../core/errors';

/** `<config-dir>/plugins/tedge-configuration-plugin.toml`, thin-edge's name. */
export const CONFIG_PLUGIN_TOML = 'tedge-configuration-plugin.toml';
/** The type of the toml file itself, always present so a cloud can fix a broken file. */
export const SELF_CONFIG_TYPE = 'tedge-configuration-plugin';

/** One `[[files]]` entry: where a config type lives and who owns a new file. */
export interface ConfigFileEntry {
  readonly type: string;
  readonly path: string;
  readonly user?: string;
  readonly group?: string;
  readonly mode?: number;
  readonly parentMode?: number;
  /** Restarted (system.toml's restart command) after an update. */
  readonly service?: string;
}

export interface ConfigToml {
  /** The self type first, then the valid entries in file order. */
  readonly entries: readonly ConfigFileEntry[];
  /** One line per problem, naming the file (and the entry); the entries not named still work. */
  readonly errors: readonly string[];
}

const KNOWN = new Set(['path', 'type', 'user', 'group', 'mode', 'parent_user', 'parent_group', 'parent_mode', 'service', 'service_action']);

/**
 * Pure: the text of the plugin toml (undefined: no file) to its entries. A syntax error leaves only the
 * self type; a bad entry is skipped and named. Paths must be absolute: a config_update may write only to
 * a path declared here, and a relative path would depend on the agent's working directory.
 */
export function parseConfigToml(text: string | undefined, source: string): ConfigToml {
  const self: ConfigFileEntry = { type: SELF_CONFIG_TYPE, path: source };
  if (text === undefined) return { entries: [self], errors: [] };
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text, source);
  } catch (e) {
    return { entries: [self], errors: [errorMessage(e)] };
  }
  const files = doc['files'] ?? [];
  if (!Array.isArray(files)) return { entries: [self], errors: [`${source}: 'files' must be an array of tables ([[files]])`] };
  const entries: ConfigFileEntry[] = [self];
  const errors: string[] = [];
  files.forEach((raw: unknown, i) => {
    const where = `${source}: files[${i}]`;
    const entry = fileEntry(raw, where);
    if (typeof entry === 'string') return void errors.push(entry);
    if (entries.some((e) => e.type === entry.type)) return void errors.push(`${where}: duplicated type '${entry.type}'`);
    entries.push(entry);
  });
  return { entries, errors };
}

function fileEntry(raw: unknown, where: string): ConfigFileEntry | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return `${where}: must be a table`;
  const t = raw as Record<string, unknown>;
  const unknown = Object.keys(t).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) return `${where}: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`;
  const path = t['path'];
  if (typeof path !== 'string' || path === '') return `${where}: 'path' must be a non-empty string`;
  if (!path.startsWith('/')) return `${where}: 'path' must be absolute, not '${path}'`;
  const type = t['type'] ?? path;
  if (typeof type !== 'string' || type === '') return `${where}: 'type' must be a non-empty string`;
  if (/[+#]/.test(type)) return `${where}: type '${type}' contains '+' or '#'`;
  if (type.includes('::')) return `${where}: type '${type}' contains '::' (reserved for <type>::<plugin>)`;
  for (const k of ['user', 'group', 'service', 'parent_user', 'parent_group'] as const) {
    if (t[k] !== undefined && (typeof t[k] !== 'string' || t[k] === '')) return `${where}: '${k}' must be a non-empty string`;
  }
  const mode = modeOf(t['mode'], `${where}: 'mode'`);
  if (typeof mode === 'string') return mode;
  const parentMode = modeOf(t['parent_mode'], `${where}: 'parent_mode'`);
  if (typeof parentMode === 'string') return parentMode;
  const action = t['service_action'];
  if (action !== undefined && action !== 'restart') return `${where}: service_action '${String(action)}' is not supported (only restart)`;
  if (action !== undefined && t['service'] === undefined) return `${where}: service_action needs a service`;
  return {
    type,
    path,
    ...(typeof t['user'] === 'string' ? { user: t['user'] } : {}),
    ...(typeof t['group'] === 'string' ? { group: t['group'] } : {}),
    ...(mode !== undefined ? { mode } : {}),
    ...(parentMode !== undefined ? { parentMode } : {}),
    ...(typeof t['service'] === 'string' ? { service: t['service'] } : {}),
  };
}

/** TOML `mode = 0o644` is the integer 420; `"644"` is also taken, as octal text. */
function modeOf(v: unknown, what: string): number | undefined | string {
  if (v === undefined) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0o7777) return v;
  if (typeof v === 'string' && /^(0o)?[0-7]{1,4}$/.test(v)) return parseInt(v.replace(/^0o/, ''), 8);
  return `${what} must be an octal mode such as 0o644`;
}

/** The file written when there is none (thin-edge creates one too): the agent's own config files. */
export function defaultConfigToml(configDir: string): string {
  const dir = configDir.replace(/\/$/, '');
  return [
    '# Configuration types served by config_snapshot and config_update: path = the file, type = its name in',
    '# the cloud (default: the path); user, group, mode = owner and mode of a file created by an update;',
    '# service = restarted after an update. Only these files can be updated. Edits count at once.',
    '',
    '[[files]]',
    `path = "${dir}/tedge.ini"`,
    'type = "tedge.ini"',
    '',
    '[[files]]',
    `path = "${dir}/plugins/tedge-log-plugin.toml"`,
    'type = "tedge-log-plugin"',
    'mode = 0o644',
    '',
  ].join('\n');
}
