import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../../../core/errors';
import { ServiceManager, loadSystemConfig } from '../../../connect/system-services';
import type { HandlerContext } from '../operation';
import { type ElevatedGet, elevatedGet } from '../plugin-support/elevated-get';
import { advertisedType, externalPlugins, splitType } from '../plugin-support/plugin-dirs';
import { fingerprint } from '../../../runtime/paths-watch';
import type { ConfigPlugin } from './config-plugin';
import { CONFIG_PLUGIN_TOML, parseConfigToml } from './config-toml';
import { ExternalConfigPlugin } from './external-config-plugin';
import { FileConfigPlugin } from './file-config-plugin';

/** What the config handlers read from the agent's config, once per use. */
export interface ConfigSettings {
  readonly configDir: string;
  readonly tomlPath: string;
  readonly pluginDirs: readonly string[];
  readonly sudo: boolean;
  readonly tmpDir: string;
}

export function configSettings(ctx: HandlerContext): ConfigSettings {
  return {
    configDir: ctx.configDir,
    tomlPath: join(ctx.configDir, 'plugins', CONFIG_PLUGIN_TOML),
    pluginDirs: ctx.config.list('configuration.plugin_paths'),
    sudo: ctx.config.boolean('sudo.enable'),
    tmpDir: ctx.config.string('tmp.path'),
  };
}

/** How long listing the types of one external plugin may take when capabilities are computed. */
const LIST_TIMEOUT_MS = 60_000;

/**
 * The config plugins of this agent, shared by config_snapshot and config_update: the built-in `file`
 * plugin over the toml, and the executables of configuration.plugin_paths. Everything is read again
 * when used (the toml and the directories are small), so an edit counts at once; the advertised types
 * are computed once per change of those files.
 */
export class ConfigPlugins {
  private memo: { readonly key: string; readonly types: Promise<string[]> } | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly opts: { readonly tedgeWrite?: readonly string[]; readonly elevatedGet?: ElevatedGet } = {}) {}

  /** The files whose change changes the types: the toml and the plugin directories. */
  watchedPaths(ctx: HandlerContext): string[] {
    const s = configSettings(ctx);
    return [s.tomlPath, ...s.pluginDirs];
  }

  /** `listener` (a handler's ctx.capabilityChanged) is called when the types may have changed. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The types may have changed without any watched file changing (an update can change what a plugin
   * lists): list them again and tell both config handlers.
   */
  changed(): void {
    this.memo = undefined;
    for (const l of this.listeners) l();
  }

  /** The advertised types, sorted: file types bare, the others `<type>::<plugin>`. Problems go to ctx.reportError. */
  types(ctx: HandlerContext): Promise<string[]> {
    const key = fingerprint(this.watchedPaths(ctx));
    if (this.memo?.key !== key) this.memo = { key, types: this.listTypes(ctx) };
    return this.memo.types;
  }

  /** The plugin serving an advertised type, and the type as that plugin knows it. */
  resolve(ctx: HandlerContext, advertised: string): { readonly plugin: ConfigPlugin; readonly type: string } | undefined {
    const { type, plugin: name } = splitType(advertised);
    const plugins = this.load(ctx, () => undefined);
    const plugin = name === 'file' ? plugins.file : plugins.external.find((p) => p.name === name);
    return plugin === undefined ? undefined : { plugin, type };
  }

  private load(ctx: HandlerContext, report: (text: string) => void): { file: FileConfigPlugin; external: ExternalConfigPlugin[] } {
    const s = configSettings(ctx);
    let text: string | undefined;
    try {
      text = readFileSync(s.tomlPath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') report(`cannot read ${s.tomlPath}: ${errorMessage(e)}`);
    }
    const toml = parseConfigToml(text, s.tomlPath);
    for (const error of toml.errors) report(error);
    const file = new FileConfigPlugin(toml.entries, {
      deploy: { sudo: s.sudo, ...(this.opts.tedgeWrite ? { tedgeWrite: this.opts.tedgeWrite } : {}) },
      services: () => new ServiceManager(loadSystemConfig(s.configDir)),
      ...optional('elevatedGet', this.opts.elevatedGet ?? elevatedGet('file-config-plugin', s.configDir, s.sudo)),
    });
    const external = externalPlugins(s.pluginDirs, ['file']).map((p) => new ExternalConfigPlugin(p.name, p.path, s.sudo));
    return { file, external };
  }

  private async listTypes(ctx: HandlerContext): Promise<string[]> {
    const { file, external } = this.load(ctx, (t) => ctx.reportError(t));
    const types = (await file.list()).map((t) => advertisedType(t, 'file'));
    for (const plugin of external) {
      try {
        const listed = await plugin.list({ signal: AbortSignal.timeout(LIST_TIMEOUT_MS) });
        types.push(...listed.map((t) => advertisedType(t, plugin.name)));
      } catch (e) {
        ctx.reportError(`config plugin ${plugin.name} skipped: ${errorMessage(e)}`);
      }
    }
    return [...new Set(types)].sort();
  }
}

/** `{ [key]: value }` when defined, `{}` otherwise (optional properties stay absent, not undefined). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}
