import type { Command } from 'commander';
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CONFIG_PLUGIN_TOML, parseConfigToml } from '../agent/operations/config/config-toml';
import { FileLogPlugin } from '../agent/operations/log/file-log-plugin';
import { LOG_PLUGIN_TOML, parseLogToml } from '../agent/operations/log/log-toml';
import { TedgeError, errorMessage } from '../core/errors';
import type { CommandContext } from './context';

interface WindowOptions {
  since?: string;
  until?: string;
}

/**
 * `tedge file-config-plugin list|get <type>` and `tedge file-log-plugin list|get <type> [--since] [--until]`
 * (also the multi-call names tedge-file-config-plugin, tedge-file-log-plugin): the agent's built-in file
 * plugins as programs, which the agent runs through sudo to read a file its user may not. They serve only
 * what the plugin tomls declare, content on stdout, raw.
 */
export function registerFilePluginCommands(program: Command, context: () => CommandContext): void {
  const configDir = (): string => context().config().configDir;

  const cfg = program.command('file-config-plugin').description('the built-in config plugin: the files of plugins/tedge-configuration-plugin.toml');
  cfg
    .command('list')
    .description('print the configuration types, one per line')
    .action(() => {
      for (const e of configEntries(configDir())) context().out(`${e.type}\n`);
    });
  cfg
    .command('get')
    .description('print the content of a configuration type')
    .argument('<type>', 'configuration type')
    .action(async (type: string) => {
      const entry = configEntries(configDir()).find((e) => e.type === type);
      if (entry === undefined) throw new TedgeError('USAGE', `unknown configuration type '${type}'`);
      try {
        // Bytes, not text: straight to the process's stdout.
        await pipeline(createReadStream(entry.path), process.stdout, { end: false });
      } catch (e) {
        throw new TedgeError('IO', `cannot read ${entry.path}: ${errorMessage(e)}`, { cause: e });
      }
    });

  const log = program.command('file-log-plugin').description('the built-in log plugin: the globs of plugins/tedge-log-plugin.toml');
  log
    .command('list')
    .description('print the log types, one per line')
    .action(() => {
      for (const t of new Set(logPlugin(configDir()).entries.map((e) => e.type))) context().out(`${t}\n`);
    });
  log
    .command('get')
    .description('print the log files of a type (each after a "filename:" line), oldest first')
    .argument('<type>', 'log type')
    .option('--since <epoch>', 'only files modified since (seconds since the epoch)')
    .option('--until <epoch>', 'accepted for the plugin protocol; files are not cut at it')
    .action(async (type: string, opts: WindowOptions) => {
      const since = epoch(opts.since, '--since');
      const until = epoch(opts.until, '--until');
      const { plugin } = logPlugin(configDir());
      let files: ReturnType<FileLogPlugin['files']>;
      try {
        files = plugin.files(type, { ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) });
      } catch (e) {
        throw new TedgeError('USAGE', errorMessage(e));
      }
      try {
        await plugin.writeTo(files, process.stdout, { signal: new AbortController().signal });
      } catch (e) {
        throw new TedgeError('IO', errorMessage(e), { cause: e });
      }
    });
}

function configEntries(configDir: string): ReturnType<typeof parseConfigToml>['entries'] {
  const path = join(configDir, 'plugins', CONFIG_PLUGIN_TOML);
  return parseConfigToml(readOptional(path), path).entries;
}

function logPlugin(configDir: string): { plugin: FileLogPlugin; entries: ReturnType<typeof parseLogToml>['entries'] } {
  const path = join(configDir, 'plugins', LOG_PLUGIN_TOML);
  const { entries } = parseLogToml(readOptional(path) ?? '', path);
  return { plugin: new FileLogPlugin(entries), entries };
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function epoch(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new TedgeError('USAGE', `${flag} expects seconds since the epoch, not '${v}'`);
  return Number(v);
}
