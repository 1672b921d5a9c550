import { parseToml } from '../../../config/toml';
import { errorMessage } from '../../../core/errors';

/** `<config-dir>/plugins/tedge-log-plugin.toml`, thin-edge's name. */
export const LOG_PLUGIN_TOML = 'tedge-log-plugin.toml';

/** One `[[files]]` entry: a log type and the files (a glob) it covers. */
export interface LogFileEntry {
  readonly type: string;
  readonly path: string;
}

/** `[plugins.<name>] filters = [{ include = "re" }, { exclude = "re" }]`: which of a plugin's types are advertised. */
export interface TypeFilters {
  readonly include: readonly RegExp[];
  readonly exclude: readonly RegExp[];
}

export interface LogToml {
  readonly entries: readonly LogFileEntry[];
  /** By plugin name. */
  readonly filters: Readonly<Record<string, TypeFilters>>;
  readonly errors: readonly string[];
}

/**
 * Pure: the text of the log plugin toml to its entries; a bad entry is skipped and named, the others
 * work. Several entries may share a type (their files are merged). `[plugins.<name>]` holds thin-edge's
 * per-plugin type filters; a plugin with a bad pattern gets no filters (and the pattern is named).
 */
export function parseLogToml(text: string, source: string): LogToml {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text, source);
  } catch (e) {
    return { entries: [], filters: {}, errors: [errorMessage(e)] };
  }
  const files = doc['files'] ?? [];
  if (!Array.isArray(files)) return { entries: [], filters: {}, errors: [`${source}: 'files' must be an array of tables ([[files]])`] };
  const entries: LogFileEntry[] = [];
  const errors: string[] = [];
  files.forEach((raw: unknown, i) => {
    const where = `${source}: files[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return void errors.push(`${where}: must be a table`);
    const t = raw as Record<string, unknown>;
    const { type, path } = t;
    if (typeof type !== 'string' || type === '') return void errors.push(`${where}: 'type' must be a non-empty string`);
    if (/[+#]/.test(type) || type.includes('::')) return void errors.push(`${where}: type '${type}' contains '+', '#' or '::'`);
    if (typeof path !== 'string' || !path.startsWith('/')) return void errors.push(`${where}: 'path' must be an absolute path or glob`);
    entries.push({ type, path });
  });
  return { entries, filters: typeFilters(doc['plugins'], source, errors), errors };
}

function typeFilters(plugins: unknown, source: string, errors: string[]): Record<string, TypeFilters> {
  const out: Record<string, TypeFilters> = {};
  if (plugins === undefined) return out;
  if (typeof plugins !== 'object' || plugins === null || Array.isArray(plugins)) {
    errors.push(`${source}: [plugins] must be a table of plugin names`);
    return out;
  }
  for (const [name, table] of Object.entries(plugins as Record<string, unknown>)) {
    const filters = (table as { filters?: unknown } | null)?.filters ?? [];
    const include: RegExp[] = [];
    const exclude: RegExp[] = [];
    try {
      if (!Array.isArray(filters)) throw new Error('filters must be an array of { include = "regex" } / { exclude = "regex" }');
      for (const f of filters as unknown[]) {
        const { include: inc, exclude: exc } = (f ?? {}) as { include?: unknown; exclude?: unknown };
        if (inc !== undefined) include.push(regex(inc));
        if (exc !== undefined) exclude.push(regex(exc));
      }
      out[name] = { include, exclude };
    } catch (e) {
      errors.push(`${source}: [plugins.${name}]: ${errorMessage(e)}`);
    }
  }
  return out;
}

function regex(v: unknown): RegExp {
  if (typeof v !== 'string') throw new Error('a pattern must be a string');
  try {
    return new RegExp(v);
  } catch (e) {
    throw new Error(`invalid regex pattern '${v}': ${errorMessage(e)}`);
  }
}

/**
 * Pure, thin-edge's rule: with only includes, a type must match one; with only excludes, it must match
 * none; with both, matching an include or no exclude keeps it.
 */
export function filterTypes(types: readonly string[], f: TypeFilters | undefined): string[] {
  if (f === undefined || (f.include.length === 0 && f.exclude.length === 0)) return [...types];
  return types.filter((t) => {
    const inc = f.include.some((r) => r.test(t));
    const exc = f.exclude.some((r) => r.test(t));
    if (f.include.length > 0 && f.exclude.length > 0) return inc || !exc;
    return f.include.length > 0 ? inc : !exc;
  });
}

/** The file written when there is none (thin-edge creates one too): the agent's own command logs. */
export function defaultLogToml(logsPath: string): string {
  const agent = `${logsPath.replace(/\/$/, '')}/agent`;
  return [
    '# Log types served by log_upload: type = name shown in the cloud, path = file or glob.',
    '# Edited files are picked up at once. Log plugins (log.plugin_paths) add <type>::<plugin> types.',
    '',
    '[[files]]',
    'type = "software-management"',
    `path = "${agent}/workflow-software_*"`,
    '',
    '[[files]]',
    'type = "config-management"',
    `path = "${agent}/workflow-config_*"`,
    '',
    '# [[files]]',
    '# type = "mosquitto"',
    '# path = "/var/log/mosquitto/mosquitto.log"',
    '',
  ].join('\n');
}
