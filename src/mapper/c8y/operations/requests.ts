import type { JsonObject, JsonValue } from '../../../core/json';
import { assertNever } from '../../../core/errors';
import { InvalidOperationError, asArray, asObject, optionalNumber, optionalString, requiredString } from './fields';
import type { BuiltinOperation } from './names';
import { toUpdateList } from './software';
import { fileTransferUrl } from './urls';

/** What a request builder needs to know about the target and the mapper's endpoints. */
export interface RequestContext {
  readonly externalId: string;
  readonly cmdId: string;
  readonly fileTransferBase: string;
  /** Tenant URL → local proxy URL; anything else unchanged. */
  readonly rewriteUrl: (url: string) => string;
}

/** Legacy config operations carry no type; thin-edge names that config `default`. */
const DEFAULT_CONFIG_TYPE = 'default';
/** thin-edge's default `lines` of a log request when Cumulocity sends none. */
const DEFAULT_LOG_LINES = 1000;

/** Cumulocity sends offsets as `+0100`; thin-edge re-serialises dates as RFC 3339 (`+01:00`). */
function rfc3339Offset(date: string): string {
  return date.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
}

function configType(obj: JsonObject, what: string): string {
  return optionalString(obj, 'type', what) ?? DEFAULT_CONFIG_TYPE;
}

function logUpload(fragment: JsonObject, ctx: RequestContext): JsonObject {
  const what = 'c8y_LogfileRequest';
  const type = requiredString(fragment, 'logFile', what);
  const out: JsonObject = {
    status: 'init',
    type,
    tedgeUrl: fileTransferUrl(ctx.fileTransferBase, ctx.externalId, 'log_upload', type, ctx.cmdId),
    dateFrom: rfc3339Offset(requiredString(fragment, 'dateFrom', what)),
    dateTo: rfc3339Offset(requiredString(fragment, 'dateTo', what)),
  };
  // An empty search means "no filter"; thin-edge omits the field rather than sending "".
  const search = optionalString(fragment, 'searchText', what);
  if (search !== undefined && search !== '') out['searchText'] = search;
  out['lines'] = optionalNumber(fragment, 'maximumLines', what) ?? DEFAULT_LOG_LINES;
  return out;
}

function firmwareFields(fragment: JsonObject, what: string): { name: string; version: string; url: string } {
  return {
    name: requiredString(fragment, 'name', what),
    version: requiredString(fragment, 'version', what),
    url: requiredString(fragment, 'url', what),
  };
}

/** Firmware, then configuration, then software: configuration first lets repositories be set up before packages install (thin-edge #3684). */
function deviceProfile(fragment: JsonObject, profileName: JsonValue | undefined, ctx: RequestContext): JsonObject {
  const what = 'c8y_DeviceProfile';
  if (typeof profileName !== 'string') throw new InvalidOperationError(`Invalid ${what}: "profileName" must be a string`);
  const operations: JsonObject[] = [];
  if (fragment['firmware'] !== undefined && fragment['firmware'] !== null) {
    const fw = firmwareFields(asObject(fragment['firmware'], `${what} firmware`), `${what} firmware`);
    operations.push({
      operation: 'firmware_update',
      payload: { name: fw.name, version: fw.version, remoteUrl: ctx.rewriteUrl(fw.url) },
      '@skip': false,
    });
  }
  const configuration = fragment['configuration'] ?? [];
  for (const item of asArray(configuration, `${what} configuration`)) {
    const c = asObject(item, `${what} configuration`);
    const url = requiredString(c, 'url', `${what} configuration`);
    const payload: JsonObject = {};
    const name = optionalString(c, 'name', `${what} configuration`);
    if (name !== undefined) payload['name'] = name;
    Object.assign(payload, { type: configType(c, `${what} configuration`), remoteUrl: ctx.rewriteUrl(url), serverUrl: url });
    operations.push({ operation: 'config_update', payload, '@skip': false });
  }
  if (fragment['software'] !== undefined && fragment['software'] !== null) {
    operations.push({ operation: 'software_update', payload: { updateList: toUpdateList(fragment['software'], ctx.rewriteUrl) }, '@skip': false });
  }
  return { status: 'init', name: profileName, operations };
}

/**
 * The thin-edge command payload for a builtin Cumulocity operation (§2.2 "Operations c8y → tedge").
 * `operation` is the whole Cumulocity operation, for fields outside the fragment (`profileName`).
 * Throws InvalidOperationError when the fragment is malformed.
 */
export function builtinRequest(op: BuiltinOperation, operation: JsonObject, fragmentName: string, ctx: RequestContext): JsonObject {
  const raw = operation[fragmentName];
  switch (op) {
    case 'restart':
      return { status: 'init' };
    case 'software_update':
      return { status: 'init', updateList: toUpdateList(raw, ctx.rewriteUrl) };
    case 'config_snapshot': {
      const type = configType(asObject(raw, fragmentName), fragmentName);
      return { status: 'init', type, tedgeUrl: fileTransferUrl(ctx.fileTransferBase, ctx.externalId, 'config_snapshot', type, ctx.cmdId) };
    }
    case 'config_update': {
      const fragment = asObject(raw, fragmentName);
      const url = requiredString(fragment, 'url', fragmentName);
      return { status: 'init', type: configType(fragment, fragmentName), remoteUrl: ctx.rewriteUrl(url), serverUrl: url };
    }
    case 'log_upload':
      return logUpload(asObject(raw, fragmentName), ctx);
    case 'firmware_update': {
      const fw = firmwareFields(asObject(raw, fragmentName), fragmentName);
      return { status: 'init', tedgeUrl: ctx.rewriteUrl(fw.url), remoteUrl: fw.url, name: fw.name, version: fw.version };
    }
    case 'device_profile':
      return deviceProfile(asObject(raw, fragmentName), operation['profileName'], ctx);
    default:
      return assertNever(op);
  }
}
