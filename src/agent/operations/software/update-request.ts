import { type JsonObject, type JsonValue, isJsonObject } from '../../../core/json';
import type { ModuleUpdate } from './modules';

/** The modules of one software type, in request order: what one plugin is asked to do. */
export interface TypeUpdates {
  readonly type: string;
  readonly modules: readonly ModuleUpdate[];
}

/** thin-edge's name for "the default plugin"; an empty or missing type means the same. */
export const DEFAULT_TYPE = 'default';

function optionalText(value: JsonValue | undefined, what: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new Error(`${what} must be a string`);
  return value === '' ? undefined : value;
}

// A tab or a line break would forge another update-list line; a leading dash would read as an option.
const CONTROL = /[\u0000-\u001f\u007f]/;

function checkField(text: string | undefined, what: string): void {
  if (text !== undefined && CONTROL.test(text)) throw new Error(`${what} must not contain tabs, line breaks or other control characters`);
}

function parseModule(value: JsonValue, where: string): ModuleUpdate | undefined {
  if (!isJsonObject(value)) throw new Error(`${where} must be an object`);
  const name = value['name'];
  if (typeof name !== 'string' || name === '') throw new Error(`${where}.name must be a non-empty string`);
  if (name.startsWith('-')) throw new Error(`${where}.name must not start with '-'`);
  checkField(name, `${where}.name`);
  const action = value['action'];
  // thin-edge skips a module without an action rather than failing the whole request.
  if (action === undefined || action === null) return undefined;
  if (action !== 'install' && action !== 'remove') throw new Error(`${where}.action must be "install" or "remove", not ${JSON.stringify(action)}`);
  const version = optionalText(value['version'], `${where}.version`);
  const url = optionalText(value['url'], `${where}.url`);
  checkField(version, `${where}.version`);
  checkField(url, `${where}.url`);
  return { action, name, ...(version !== undefined && { version }), ...(url !== undefined && { url }) };
}

/**
 * The `updateList` of a software_update payload, grouped by software type in first-seen order.
 * Throws on a malformed request (the command then fails with that reason). Types are as requested:
 * `default` and empty types are resolved to a plugin by the caller.
 */
export function parseUpdateList(payload: JsonObject): TypeUpdates[] {
  const list = payload['updateList'];
  if (!Array.isArray(list)) throw new Error('updateList must be an array of {"type":…,"modules":[…]}');
  const byType = new Map<string, ModuleUpdate[]>();
  list.forEach((entry, i) => {
    if (!isJsonObject(entry)) throw new Error(`updateList[${i}] must be an object`);
    const type = optionalText(entry['type'], `updateList[${i}].type`) ?? DEFAULT_TYPE;
    const modules = entry['modules'];
    if (!Array.isArray(modules)) throw new Error(`updateList[${i}].modules must be an array`);
    const target = byType.get(type) ?? [];
    byType.set(type, target);
    modules.forEach((m, j) => {
      const module = parseModule(m, `updateList[${i}].modules[${j}]`);
      if (module !== undefined) target.push(module);
    });
  });
  return [...byType].map(([type, modules]) => ({ type, modules }));
}

/**
 * Which plugin handles a requested type: itself, or for `default` the configured
 * software.plugin.default, else the only plugin when there is exactly one. Undefined: no such plugin.
 */
export function resolvePluginType(requested: string, plugins: readonly string[], configuredDefault: string | undefined): string | undefined {
  if (requested !== DEFAULT_TYPE) return plugins.includes(requested) ? requested : undefined;
  if (configuredDefault !== undefined && configuredDefault !== '') return plugins.includes(configuredDefault) ? configuredDefault : undefined;
  return plugins.length === 1 ? plugins[0] : undefined;
}

/**
 * Groups merged by resolved plugin (a `default` group and an explicit one may be the same plugin),
 * keeping request order; groups no plugin handles come back separately, to be reported as failures.
 */
export function assignPlugins(
  groups: readonly TypeUpdates[],
  plugins: readonly string[],
  configuredDefault: string | undefined,
): { readonly planned: TypeUpdates[]; readonly unknown: TypeUpdates[] } {
  const planned = new Map<string, ModuleUpdate[]>();
  const unknown: TypeUpdates[] = [];
  for (const group of groups) {
    const plugin = resolvePluginType(group.type, plugins, configuredDefault);
    if (plugin === undefined) {
      unknown.push(group);
      continue;
    }
    planned.set(plugin, [...(planned.get(plugin) ?? []), ...group.modules]);
  }
  return { planned: [...planned].map(([type, modules]) => ({ type, modules })), unknown };
}
