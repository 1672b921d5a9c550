/**
 * The `context.mapper|flow|script` stores of thin-edge's step API. Values are held as JSON text:
 * they cross between sandboxes (each step has its own realm) and between the worker and the mapper,
 * and text is the one form every realm reads the same and no step can hand another a live object.
 */
export class KvStore {
  private readonly values = new Map<string, string>();
  /** Changes since the last `takeChanges`, for stores mirrored in other workers (context.mapper). */
  private changes: [string, string | null][] | undefined;

  constructor(trackChanges = false) {
    if (trackChanges) this.changes = [];
  }

  keys(): string[] {
    return [...this.values.keys()];
  }

  get(key: string): string | undefined {
    return this.values.get(key);
  }

  /** `null` removes the key, as thin-edge's `set(key, null)`. */
  set(key: string, json: string | null, fromElsewhere = false): void {
    if (json === null || json === 'null') this.values.delete(key);
    else this.values.set(key, json);
    if (!fromElsewhere) this.changes?.push([key, json === 'null' ? null : json]);
  }

  takeChanges(): [string, string | null][] {
    const out = this.changes ?? [];
    if (this.changes) this.changes = [];
    return out;
  }
}

/** The three stores a step sees. */
export interface StepStores {
  readonly mapper: KvStore;
  readonly flow: KvStore;
  readonly script: KvStore;
}
