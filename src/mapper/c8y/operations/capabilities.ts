import { ConversionError } from '../../../core/errors';
import { type JsonObject, parseJsonObject } from '../../../core/json';
import { smartrestLine } from '../smartrest';

/** `{}` or `{"types":[..]}` (§1.5); the types, or undefined when the capability lists none. */
export function capabilityTypes(payload: string): string[] | undefined {
  const obj: JsonObject = parseJsonObject(payload, 'a command capability');
  const types = obj['types'];
  if (types === undefined || types === null) return undefined;
  if (!Array.isArray(types) || !types.every((t): t is string => typeof t === 'string')) {
    throw new ConversionError('Invalid command capability: "types" must be a list of strings');
  }
  return types;
}

/** Sorted, duplicates dropped: Cumulocity shows the list as given, and sorting makes reruns comparable. */
export function sortedUnique(items: Iterable<string>): string[] {
  return [...new Set(items)].sort();
}

/**
 * Supported operations per entity and the last line sent per (entity, message kind), so the same
 * 114/118/119 is not sent twice. Keyed by external id: that is what both topics and static files use.
 */
export class SupportedOperations {
  private readonly dynamic = new Map<string, Set<string>>();
  private readonly lastSent = new Map<string, string>();

  constructor(private staticOps: ReadonlyMap<string, readonly string[]> = new Map()) {}

  /** Replaces the operations of the operations directory (re-read on `sync`). */
  setStatic(ops: ReadonlyMap<string, readonly string[]>): void {
    this.staticOps = ops;
  }

  add(xid: string, c8yName: string): void {
    const ops = this.dynamic.get(xid) ?? new Set<string>();
    this.dynamic.set(xid, ops);
    ops.add(c8yName);
  }

  /** Every operation of the entity, sorted: the body of its 114. */
  list(xid: string): string[] {
    return sortedUnique([...(this.staticOps.get(xid) ?? []), ...(this.dynamic.get(xid) ?? [])]);
  }

  /** External ids with at least one operation. */
  entities(): string[] {
    return sortedUnique([...this.staticOps.keys(), ...this.dynamic.keys()]).filter((xid) => this.list(xid).length > 0);
  }

  supportedOperationsLine(xid: string): string {
    return smartrestLine(114, ...this.list(xid));
  }

  /** Records a line for an entity and kind (e.g. '114'); false if it is what was sent last (a duplicate). */
  changed(xid: string, kind: string, line: string): boolean {
    const key = `${xid}\n${kind}`;
    if (this.lastSent.get(key) === line) return false;
    this.lastSent.set(key, line);
    return true;
  }

  /** Drops what is known of a deregistered entity, so a re-registration announces everything again. */
  forget(xid: string): void {
    this.dynamic.delete(xid);
    for (const key of [...this.lastSent.keys()]) if (key.startsWith(`${xid}\n`)) this.lastSent.delete(key);
  }
}
