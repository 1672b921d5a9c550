import { ConversionError } from '../../../core/errors';
import { type JsonObject, type JsonValue, isJsonObject, parseJsonObject } from '../../../core/json';
import { substitute } from './custom';
import { InvalidOperationError } from './fields';
import { MARKER_KEY, marker } from './custom-marker';
import type { ExecHandler } from './operations-dir';
import { BUILTIN_FRAGMENTS, type BuiltinOperation, c8yOperationName, enableKey } from './names';
import type { CustomOperation, OperationsOptions } from './options';
import { type RequestContext, builtinRequest } from './requests';

/** Properties every Cumulocity operation has; anything else is a fragment that may select a handler. */
const STANDARD_PROPERTIES: ReadonlySet<string> = new Set([
  'id', 'self', 'status', 'description', 'creationTime', 'deviceId', 'agentId', 'deviceName',
  'delivery', 'externalSource', 'bulkOperationId', 'failureReason', 'profileName', 'profileId',
]);

/** One operation of `c8y/devicecontrol/notifications`: the whole JSON, its id and its target. */
export interface CloudOperation {
  readonly json: JsonObject;
  readonly opid: string;
  readonly externalId: string;
}

export function parseCloudOperation(text: string): CloudOperation {
  const json = parseJsonObject(text, 'a Cumulocity operation');
  const rawId = json['id'];
  if (typeof rawId !== 'string' && typeof rawId !== 'number') throw new ConversionError('Invalid Cumulocity operation: "id" must be a string');
  const opid = String(rawId);
  const source = json['externalSource'];
  const externalId = isJsonObject(source) ? source['externalId'] : undefined;
  if (typeof externalId !== 'string') throw new ConversionError(`Invalid Cumulocity operation ${opid}: "externalSource.externalId" must be a string`);
  return { json, opid, externalId };
}

/** What handles a Cumulocity operation: a builtin thin-edge operation or a workflow-backed custom one. */
export type Handler =
  | { readonly kind: 'builtin'; readonly op: BuiltinOperation; readonly fragment: string }
  | { readonly kind: 'custom'; readonly custom: CustomOperation }
  | { readonly kind: 'exec'; readonly exec: ExecHandler };

/** The handler for the first known fragment; ConversionError when disabled or when no fragment is known. */
export function resolveHandler(op: CloudOperation, opts: Pick<OperationsOptions, 'enabled' | 'customOperations'>, exec: readonly ExecHandler[] = []): Handler {
  const builtin = BUILTIN_FRAGMENTS.find(([fragment]) => op.json[fragment] !== undefined);
  if (builtin !== undefined) {
    const [fragment, name] = builtin;
    if (!opts.enabled(name)) throw new ConversionError(`Cannot execute Cumulocity operation ${op.opid}: ${fragment} is disabled (${enableKey(name)} = false)`);
    return { kind: 'builtin', op: name, fragment };
  }
  const custom = opts.customOperations?.find((c) => op.json[c.onFragment] !== undefined);
  if (custom !== undefined) return { kind: 'custom', custom };
  const handler = exec.find((h) => h.spec.onFragment !== undefined && op.json[h.spec.onFragment] !== undefined);
  if (handler !== undefined) return { kind: 'exec', exec: handler };
  const fragments = Object.keys(op.json).filter((k) => !STANDARD_PROPERTIES.has(k));
  throw new ConversionError(`Cannot execute Cumulocity operation ${op.opid}: no handler for its fragments (${fragments.join(', ') || 'none'})`);
}

/** The thin-edge command a handler creates, and the Cumulocity name its statuses use. */
export function handlerNames(h: Handler): { readonly operation: string; readonly c8yName: string } {
  switch (h.kind) {
    case 'builtin':
      return { operation: h.op, c8yName: c8yOperationName(h.op) };
    case 'custom':
      return { operation: h.custom.operation, c8yName: h.custom.name };
    case 'exec':
      return { operation: h.exec.name, c8yName: h.exec.name };
  }
}

/** The `init` payload of the command; throws InvalidOperationError for a malformed fragment. */
export function commandBody(h: Exclude<Handler, { kind: 'exec' }>, op: CloudOperation, ctx: RequestContext): JsonObject {
  if (h.kind === 'builtin') return builtinRequest(h.op, op.json, h.fragment, ctx);
  const input: JsonValue = h.custom.input === undefined ? {} : substitute(h.custom.input, op.json);
  const body: JsonObject = { status: 'init' };
  if (!isJsonObject(input)) throw new InvalidOperationError(`${h.custom.name}: [exec.workflow] input must give a JSON object, found ${JSON.stringify(input)}`);
  // The mapper creates the command, so it is `init` whatever the template says.
  for (const [k, v] of Object.entries(input)) if (k !== 'status' && k !== MARKER_KEY) body[k] = v;
  // How to report it travels with the command (thin-edge's `c8y-mapper` fragment).
  body[MARKER_KEY] = marker(h.custom.onFragment, h.custom.output);
  return body;
}
