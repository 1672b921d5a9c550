import { parseToml } from '../../../config/toml';
import { errorMessage } from '../../../core/errors';

/** `<config-dir>/plugins/tedge-log-plugin.toml`, thin-edge's name. */
export const LOG_PLUGIN_TOML = 'tedge-log-plugin.toml';

/** One `[[files]]` entry: a log type and the files (a glob) it covers. */
export interface LogFileEntry {
  readonly type: string;
  readonly path: string;
}

export interface LogToml {
  readonly entries: readonly LogFileEntry[];
  readonly errors: readonly string[];
}

/**
 * Pure: the text of the log plugin toml to its entries; a bad entry is skipped and named, the others
 * work. Several entries may share a type (their files are merged). `[plugins.<name>]` tables (thin-edge's
 * per-plugin filters) are accepted and not applied.
 */
export function parseLogToml(text: string, source: string): LogToml {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text, source);
  } catch (e) {
    return { entries: [], errors: [errorMessage(e)] };
  }
  const files = doc['files'] ?? [];
  if (!Array.isArray(files)) return { entries: [], errors: [`${source}: 'files' must be an array of tables ([[files]])`] };
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
  return { entries, errors };
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
