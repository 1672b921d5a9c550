import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { durationMs } from '../../../config/value-types';
import type { HandlerContext } from '../operation';
import { type ListFilter, type SoftwareModule, configRegex, filterModules, parseModuleList } from './modules';
import { type PluginResult, runPlugin } from './plugin-exec';
import { describeExit, verdictOf } from './protocol';

/** What every plugin call needs from the config, read once per command. */
export interface PluginSettings {
  /** `<config-dir>/sm-plugins` */
  readonly dir: string;
  readonly sudo: boolean;
  readonly timeoutMs: number;
  readonly filter: ListFilter;
  /** software.plugin.default, when set. */
  readonly defaultType: string | undefined;
  readonly tmpDir: string;
}

export function pluginSettings(ctx: HandlerContext): PluginSettings {
  const config = ctx.config;
  return {
    dir: join(ctx.configDir, 'sm-plugins'),
    sudo: config.boolean('sudo.enable'),
    timeoutMs: durationMs(config.string('software.plugin.timeout')),
    filter: {
      include: configRegex('software.plugin.include', config.text('software.plugin.include')),
      exclude: configRegex('software.plugin.exclude', config.text('software.plugin.exclude')),
      maxPackages: config.number('software.plugin.max_packages'),
    },
    defaultType: config.text('software.plugin.default'),
    tmpDir: config.string('tmp.path'),
  };
}

/** A plugin: an executable `<sm-plugins>/<type>`; the file name is the software type. */
export interface SmPlugin {
  readonly type: string;
  readonly path: string;
}

/**
 * The executables of the plugin directory, by name (thin-edge's order). Symlinks are followed (the apt
 * plugin is a link to tedge); hidden files, directories and non-executables are not plugins. A missing
 * directory means no plugins.
 */
export function pluginFiles(dir: string): SmPlugin[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const plugins: SmPlugin[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    try {
      const st = statSync(path);
      if (st.isFile() && (st.mode & 0o111) !== 0) plugins.push({ type: name, path });
    } catch {
      // a dangling link: not a plugin
    }
  }
  return plugins;
}

/** A call of a plugin with the settings of this command. */
export function callPlugin(
  plugin: SmPlugin,
  args: readonly string[],
  settings: PluginSettings,
  signal: AbortSignal,
  log?: (line: string) => void,
  stdin?: string,
): Promise<PluginResult> {
  return runPlugin({ path: plugin.path, args, timeoutMs: settings.timeoutMs, signal, sudo: settings.sudo, ...(log && { log }), ...(stdin !== undefined && { stdin }) });
}

export type ListResult = { readonly ok: true; readonly modules: SoftwareModule[] } | { readonly ok: false; readonly error: string };

/** `<plugin> list`, parsed and filtered (include/exclude/max_packages). */
export async function listModules(plugin: SmPlugin, settings: PluginSettings, signal: AbortSignal, log?: (line: string) => void): Promise<ListResult> {
  const result = await callPlugin(plugin, ['list'], settings, signal, log);
  if (verdictOf(result.exit) !== 'success') return { ok: false, error: `${plugin.type} list: ${describeExit(result.exit, result.stderr)}` };
  try {
    return { ok: true, modules: filterModules(parseModuleList(result.stdout), settings.filter) };
  } catch (err) {
    const stderr = result.stderr.trim();
    return { ok: false, error: `${plugin.type} list: ${(err as Error).message}${stderr === '' ? '' : `; stderr: ${stderr}`}` };
  }
}
