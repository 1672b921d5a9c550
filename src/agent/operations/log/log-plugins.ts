import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../../../core/errors';
import { findOnPath } from '../software/plugin-exec';
import type { HandlerContext } from '../operation';
import { fingerprint } from '../../../runtime/paths-watch';
import { advertisedType, externalPlugins, splitType } from '../plugin-support/plugin-dirs';
import { type ElevatedGet, elevatedGet } from '../plugin-support/elevated-get';
import { ExternalLogPlugin, getArgs } from './external-log-plugin';
import { FileLogPlugin } from './file-log-plugin';
import { JournaldLogPlugin } from './journald-log-plugin';
import type { LogCallControl, LogPlugin, LogWindow } from './log-plugin';
import { LOG_PLUGIN_TOML, type LogToml, filterTypes, parseLogToml } from './log-toml';

export interface LogSettings {
  readonly tomlPath: string;
  readonly pluginDirs: readonly string[];
  readonly sudo: boolean;
  readonly tmpDir: string;
  readonly logsPath: string;
}

export function logSettings(ctx: HandlerContext): LogSettings {
  return {
    tomlPath: join(ctx.configDir, 'plugins', LOG_PLUGIN_TOML),
    pluginDirs: ctx.config.list('log.plugin_paths'),
    sudo: ctx.config.boolean('sudo.enable'),
    tmpDir: ctx.config.string('tmp.path'),
    logsPath: ctx.config.string('logs.path'),
  };
}

const LIST_TIMEOUT_MS = 60_000;

/**
 * The log plugins: built-in `file` (the toml's globs) and `journald` (where systemd runs), and the
 * executables of log.plugin_paths (one named `journald` replaces the built-in one). Read again when used;
 * the advertised types are computed once per change of the toml or the directories.
 */
export class LogPlugins {
  private memo: { readonly key: string; readonly types: Promise<string[]> } | undefined;

  constructor(private readonly programs: { readonly journalctl?: string; readonly systemctl?: string; readonly elevatedGet?: ElevatedGet } = {}) {}

  watchedPaths(ctx: HandlerContext): string[] {
    const s = logSettings(ctx);
    return [s.tomlPath, ...s.pluginDirs];
  }

  types(ctx: HandlerContext): Promise<string[]> {
    const key = fingerprint(this.watchedPaths(ctx));
    if (this.memo?.key !== key) this.memo = { key, types: this.listTypes(ctx) };
    return this.memo.types;
  }

  resolve(ctx: HandlerContext, advertised: string): { readonly plugin: LogPlugin; readonly type: string } | undefined {
    const { type, plugin: name } = splitType(advertised);
    const plugin = this.load(ctx, () => undefined).find((p) => p.name === name);
    return plugin === undefined ? undefined : { plugin, type };
  }

  private load(ctx: HandlerContext, report: (text: string) => void): LogPlugin[] {
    return this.read(ctx, report).plugins;
  }

  private read(ctx: HandlerContext, report: (text: string) => void): { plugins: LogPlugin[]; filters: LogToml['filters'] } {
    const s = logSettings(ctx);
    let text = '';
    try {
      text = readFileSync(s.tomlPath, 'utf8');
    } catch (e) {
      report(`cannot read ${s.tomlPath}: ${errorMessage(e)}`);
    }
    const toml = parseLogToml(text, s.tomlPath);
    for (const error of toml.errors) report(error);
    const external = externalPlugins(s.pluginDirs, ['file']).map((p) => new ExternalLogPlugin(p.name, p.path, s.sudo));
    const sudoGet = this.programs.elevatedGet ?? elevatedGet('file-log-plugin', ctx.configDir, s.sudo);
    const viaSudo = sudoGet === undefined ? undefined : (type: string, w: LogWindow, dest: string, ctl: LogCallControl) => sudoGet(windowArgs(type, w), dest, ctl);
    const plugins: LogPlugin[] = [new FileLogPlugin(toml.entries, viaSudo), ...external];
    // Only where systemd runs (sd_booted: /run/systemd/system exists): in a container that merely has
    // journalctl installed, listing units fails and would be reported at every start.
    const journalctl = this.programs.journalctl ?? (existsSync('/run/systemd/system') ? findOnPath('journalctl') : undefined);
    if (journalctl !== undefined && !external.some((p) => p.name === 'journald')) {
      plugins.push(new JournaldLogPlugin({ journalctl, systemctl: this.programs.systemctl ?? findOnPath('systemctl') }, s.sudo));
    }
    return { plugins, filters: toml.filters };
  }

  private async listTypes(ctx: HandlerContext): Promise<string[]> {
    const types: string[] = [];
    const { plugins, filters } = this.read(ctx, (t) => ctx.reportError(t));
    for (const plugin of plugins) {
      try {
        const listed = filterTypes(await plugin.list({ signal: AbortSignal.timeout(LIST_TIMEOUT_MS) }), filters[plugin.name]);
        types.push(...listed.map((t) => advertisedType(t, plugin.name)));
      } catch (e) {
        ctx.reportError(`log plugin ${plugin.name} skipped: ${errorMessage(e)}`);
      }
    }
    return [...new Set(types)].sort();
  }
}

/** `<type> [--since s] [--until u]`: the arguments after `get`. */
function windowArgs(type: string, w: LogWindow): string[] {
  return getArgs(type, w).slice(1);
}
