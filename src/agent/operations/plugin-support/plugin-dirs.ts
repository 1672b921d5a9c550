import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** An external config or log plugin: an executable in one of the plugin directories; its file name is its name. */
export interface ExternalPluginFile {
  readonly name: string;
  readonly path: string;
}

/**
 * The executables of the plugin directories, in directory order: the first directory holding a name
 * wins (thin-edge: later ones are "overridden"). Hidden files, directories and non-executables are skipped;
 * a missing directory holds no plugins. `reserved` names (built-in plugins) cannot be overridden.
 */
export function externalPlugins(dirs: readonly string[], reserved: readonly string[] = []): ExternalPluginFile[] {
  const found = new Map<string, ExternalPluginFile>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      if (name.startsWith('.') || found.has(name) || reserved.includes(name)) continue;
      const path = join(dir, name);
      try {
        if (!statSync(path).isFile()) continue;
        accessSync(path, constants.X_OK);
      } catch {
        continue;
      }
      found.set(name, { name, path });
    }
  }
  return [...found.values()];
}

/** `type::plugin` → [type, plugin]; a bare type belongs to the built-in `file` plugin (thin-edge). */
export function splitType(advertised: string): { readonly type: string; readonly plugin: string } {
  const i = advertised.indexOf('::');
  return i < 0 ? { type: advertised, plugin: 'file' } : { type: advertised.slice(0, i), plugin: advertised.slice(i + 2) };
}

/** The advertised form: file-plugin types bare, the others `<type>::<plugin>`. */
export function advertisedType(type: string, plugin: string): string {
  return plugin === 'file' ? type : `${type}::${plugin}`;
}
