import { ConversionError } from '../../core/errors';
import { isJsonObject, parseJson } from '../../core/json';
import type { EntityTopicId } from '../../core/topics';

/** Units from retained `te/<id>/m/<type>/meta` (`{"temperature":{"unit":"°C"}}`); only `unit` is used. */
export class UnitStore {
  private readonly units = new Map<string, Map<string, string>>();

  private static key(entity: EntityTopicId, type: string): string {
    return `${entity}\u0000${type}`;
  }

  update(entity: EntityTopicId, type: string, payload: string): void {
    const key = UnitStore.key(entity, type);
    if (payload === '') {
      this.units.delete(key);
      return;
    }
    const json = parseJson(payload);
    if (!isJsonObject(json)) throw new ConversionError('Invalid measurement metadata: expected a JSON object');
    const units = new Map<string, string>();
    for (const [series, meta] of Object.entries(json)) {
      if (isJsonObject(meta) && typeof meta['unit'] === 'string') units.set(series, meta['unit']);
    }
    this.units.set(key, units);
  }

  /** Units of one measurement type of one entity, keyed by series (`temperature`, `Climate.Humidity`). */
  table(entity: EntityTopicId, type: string): ReadonlyMap<string, string> | undefined {
    return this.units.get(UnitStore.key(entity, type));
  }
}
