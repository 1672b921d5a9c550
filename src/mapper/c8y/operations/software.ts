import type { JsonObject, JsonValue } from '../../../core/json';
import { smartrestLine } from '../smartrest';
import { InvalidOperationError, asArray, asObject, optionalString, requiredString } from './fields';

/** Software type of modules that name none (thin-edge `SoftwareModule::default_type`). */
export const DEFAULT_SOFTWARE_TYPE = 'default';
/** Modules per 140/141 line, as thin-edge chunks the advanced software list. */
export const SOFTWARE_LIST_CHUNK = 100;

const WHAT = 'c8y_SoftwareUpdate';

/**
 * Version and type of a module. Cumulocity ≥ 10.14 sends `softwareType`; older tenants encode the type
 * in the version as `<version>::<type>` (thin-edge #1352), so that form is split when no type is given.
 */
export function versionAndType(version: string, softwareType: string | undefined): { version?: string; type?: string } {
  const v = version.trim();
  if (softwareType !== undefined && softwareType.trim() !== '') return v === '' ? { type: softwareType } : { version: v, type: softwareType };
  if (v === '') return {};
  const sep = v.lastIndexOf('::');
  if (sep < 0) return { version: v };
  const ver = v.slice(0, sep);
  const type = v.slice(sep + 2);
  return { ...(ver !== '' ? { version: ver } : {}), ...(type !== '' ? { type } : {}) };
}

/**
 * `c8y_SoftwareUpdate` modules → thin-edge `updateList`, grouped by type in order of first appearance.
 * `delete` becomes `remove`; blank URLs are dropped; `rewriteUrl` sends tenant URLs through the proxy.
 */
export function toUpdateList(modules: JsonValue | undefined, rewriteUrl: (url: string) => string): JsonObject[] {
  const groups = new Map<string, JsonObject[]>();
  for (const item of asArray(modules, WHAT)) {
    const m = asObject(item, `${WHAT} module`);
    const name = requiredString(m, 'name', WHAT);
    const action = requiredString(m, 'action', WHAT);
    if (action !== 'install' && action !== 'delete') {
      throw new InvalidOperationError(`Parameter ${action} is not recognized. It must be install or delete.`);
    }
    const { version, type } = versionAndType(optionalString(m, 'version', WHAT) ?? '', optionalString(m, 'softwareType', WHAT));
    const url = optionalString(m, 'url', WHAT)?.trim();
    const module: JsonObject = { name };
    if (version !== undefined) module['version'] = version;
    // A removal downloads nothing, so thin-edge drops its URL.
    if (action === 'install' && url !== undefined && url !== '') module['url'] = rewriteUrl(url);
    module['action'] = action === 'install' ? 'install' : 'remove';
    const key = type ?? DEFAULT_SOFTWARE_TYPE;
    const group = groups.get(key);
    if (group) group.push(module);
    else groups.set(key, [module]);
  }
  return [...groups].map(([type, mods]) => ({ type, modules: mods }));
}

function text(v: JsonValue | undefined): string {
  return typeof v === 'string' ? v : '';
}

/**
 * A successful software_list's `currentSoftwareList` → advanced software list lines: `140,<name>,<version>,<type>,<url>,...`
 * for the first 100 modules, `141,...` for each further 100; an empty list is `140,,,,` (which clears it).
 */
export function advancedSoftwareList(payload: JsonObject): string[] {
  const items: string[][] = [];
  const lists = Array.isArray(payload['currentSoftwareList']) ? payload['currentSoftwareList'] : [];
  for (const list of lists) {
    if (typeof list !== 'object' || list === null || Array.isArray(list)) continue;
    const type = text(list['type']) || DEFAULT_SOFTWARE_TYPE;
    const modules = Array.isArray(list['modules']) ? list['modules'] : [];
    for (const m of modules) {
      if (typeof m !== 'object' || m === null || Array.isArray(m)) continue;
      items.push([text(m['name']), text(m['version']), type, text(m['url'])]);
    }
  }
  if (items.length === 0) return [smartrestLine(140, '', '', '', '')];
  const lines: string[] = [];
  for (let i = 0; i < items.length; i += SOFTWARE_LIST_CHUNK) {
    lines.push(smartrestLine(i === 0 ? 140 : 141, ...items.slice(i, i + SOFTWARE_LIST_CHUNK).flat()));
  }
  return lines;
}

/**
 * The legacy software list (`c8y.software_management.api=legacy`): the inventory fragment
 * `{"c8y_SoftwareList":[{name, version?, softwareType, url}]}`, `url` "" when the module has none, as thin-edge sends it.
 */
export function legacySoftwareList(payload: JsonObject): string {
  const items: JsonObject[] = [];
  const lists = Array.isArray(payload['currentSoftwareList']) ? payload['currentSoftwareList'] : [];
  for (const list of lists) {
    if (typeof list !== 'object' || list === null || Array.isArray(list)) continue;
    const type = text(list['type']) || DEFAULT_SOFTWARE_TYPE;
    for (const m of Array.isArray(list['modules']) ? list['modules'] : []) {
      if (typeof m !== 'object' || m === null || Array.isArray(m)) continue;
      const item: JsonObject = { name: text(m['name']) };
      const version = text(m['version']);
      if (version !== '') item['version'] = version;
      item['softwareType'] = type;
      item['url'] = text(m['url']);
      items.push(item);
    }
  }
  return JSON.stringify({ c8y_SoftwareList: items });
}
