import { ConversionError } from '../../../core/errors';
import { type JsonObject, type JsonValue, isJsonObject, jsonTypeName } from '../../../core/json';

/**
 * A Cumulocity operation whose fragment is malformed. Unlike other conversion errors the operation is
 * known (we have its id), so it is failed in the cloud (504/505) instead of being left pending forever.
 */
export class InvalidOperationError extends ConversionError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidOperationError';
  }
}

export function isInvalidOperationError(e: unknown): e is InvalidOperationError {
  return e instanceof InvalidOperationError;
}

/** The fragment's fields as an object; `what` names the fragment in the error. */
export function asObject(v: JsonValue | undefined, what: string): JsonObject {
  if (!isJsonObject(v)) throw new InvalidOperationError(`Invalid ${what}: expected an object, found ${v === undefined ? 'nothing' : jsonTypeName(v)}`);
  return v;
}

export function asArray(v: JsonValue | undefined, what: string): JsonValue[] {
  if (!Array.isArray(v)) throw new InvalidOperationError(`Invalid ${what}: expected a list, found ${v === undefined ? 'nothing' : jsonTypeName(v)}`);
  return v;
}

export function requiredString(obj: JsonObject, key: string, what: string): string {
  const v = obj[key];
  if (typeof v !== 'string') throw new InvalidOperationError(`Invalid ${what}: "${key}" must be a string`);
  return v;
}

export function optionalString(obj: JsonObject, key: string, what: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new InvalidOperationError(`Invalid ${what}: "${key}" must be a string`);
  return v;
}

export function optionalNumber(obj: JsonObject, key: string, what: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number') throw new InvalidOperationError(`Invalid ${what}: "${key}" must be a number`);
  return v;
}
