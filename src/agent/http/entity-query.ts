import type { EntityType } from '../../core/entity';
import { isEntityTopicId } from '../../core/topics';
import type { ListFilters } from '../entities/entity-requests';

export type ParsedQuery = { readonly ok: true; readonly filters: ListFilters } | { readonly ok: false; readonly message: string };

/** `main` is the documented name of the main device's type; `device` is what thin-edge also accepts. */
const TYPES: Readonly<Record<string, EntityType>> = { main: 'device', device: 'device', 'child-device': 'child-device', service: 'service' };

/**
 * `?root=&parent=&type=` of `GET /te/v1/entities` (thin-edge's rules): an empty value is no filter, a
 * parameter may be given once, `root` and `parent` exclude each other, other parameters are ignored.
 */
export function parseEntityQuery(search: URLSearchParams): ParsedQuery {
  const one = (name: string): string | undefined | Error => {
    const all = search.getAll(name);
    if (all.length > 1) return new Error(`The parameter '${name}' can only be given once`);
    return all[0] === undefined || all[0] === '' ? undefined : all[0];
  };
  const root = one('root');
  const parent = one('parent');
  const type = one('type');
  for (const v of [root, parent, type]) if (v instanceof Error) return { ok: false, message: v.message };
  for (const id of [root, parent]) {
    if (typeof id === 'string' && !isEntityTopicId(id)) {
      return { ok: false, message: `An entity topic identifier has exactly 4 segments, e.g. 'device/child01//': '${id}'` };
    }
  }
  if (root !== undefined && parent !== undefined) {
    return { ok: false, message: 'The provided parameters: root and parent are mutually exclusive. Use either one.' };
  }
  const filters: { root?: string; parent?: string; type?: EntityType } = {};
  if (typeof root === 'string') filters.root = root;
  if (typeof parent === 'string') filters.parent = parent;
  if (typeof type === 'string') {
    const t = TYPES[type];
    if (t === undefined) return { ok: false, message: `Invalid entity type: ${type}` };
    filters.type = t;
  }
  return { ok: true, filters };
}
