import type { CommandState } from '../../../core/commands';
import { assertNever } from '../../../core/errors';
import { type JsonObject, type JsonValue, isJsonObject } from '../../../core/json';
import type { Message } from '../../../core/message';
import { smartrestLine } from '../smartrest';
import type { ReportedStatus } from './command-tracker';
import type { BuiltinOperation } from './names';
import { customOutput } from './custom-marker';
import { type OperationRef, executingLine, failedLine, successfulLine } from './status';
import type { UploadOperation } from './uploads';

/** What kind of command a `c8y-mapper-*` command is, which decides how its statuses are reported. */
export type CommandKind =
  | { readonly kind: 'builtin'; readonly op: BuiltinOperation }
  | { readonly kind: 'custom'; readonly c8yName: string | undefined }
  | { readonly kind: 'software_list' };

/** The effects a status update may need, provided by C8yOperations (topics, ids, the upload request). */
export interface CompletionContext {
  readonly state: CommandState;
  /** Undefined when the operation cannot be named (custom operation without mapping, by-name reporting). */
  readonly ref: OperationRef | undefined;
  readonly smartrest: (line: string) => Message;
  /** Empty retained message on the command topic: the requester clears a finished command (§1.5). */
  readonly clear: () => Message;
  /** A new retained `software_list` command for the same entity, so Cumulocity sees the installed software. */
  readonly requestSoftwareList: () => Message;
  /** Retained `te/<id>/twin/<fragment>` update. */
  readonly twin: (fragment: string, value: JsonValue) => Message;
  /** The request to upload the file of a successful config_snapshot / log_upload. */
  readonly uploadRequest: (op: UploadOperation) => Message;
  /** A successful software_list's list as Cumulocity takes it (140/141 or inventory c8y_SoftwareList). */
  readonly softwareList: (payload: JsonObject) => Message[];
}

function sr(ctx: CompletionContext, line: (r: OperationRef) => string): Message[] {
  return ctx.ref === undefined ? [] : [ctx.smartrest(line(ctx.ref))];
}

/** thin-edge's default reason of a failed command without one (tedge_api `default_failure_reason`). */
export const UNKNOWN_REASON = 'Unknown reason';

function reason(ctx: CompletionContext): string {
  const r = ctx.state.reason;
  return r === undefined || r === '' ? UNKNOWN_REASON : r;
}

/**
 * `{name, version, url}` of a firmware payload, as the twin fragment `firmware` (→ c8y_Firmware): Cumulocity's
 * c8y_Firmware names the URL `url`; the command carries it as `remoteUrl` (the cloud's URL), else `url`.
 */
function firmwareTwin(p: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k of ['name', 'version']) {
    const v = p[k];
    if (v !== undefined) out[k] = v;
  }
  const url = p['remoteUrl'] ?? p['url'];
  if (url !== undefined) out['url'] = url;
  return out;
}

function text(p: JsonObject, k: string): string {
  const v = p[k];
  return typeof v === 'string' ? v : '';
}

/** `120,<type>,<url>[,<name>]`: the configuration now installed, shown in the device's configuration tab. */
function installedConfig(ctx: CompletionContext, p: JsonObject): Message {
  const url = text(p, 'serverUrl') || text(p, 'remoteUrl');
  const name = text(p, 'name');
  return ctx.smartrest(smartrestLine(120, text(p, 'type'), url, ...(name !== '' ? [name] : [])));
}

/** device_profile success: apply each part's cloud-side effect (firmware twin, software list, 120 per config). */
function profileEffects(ctx: CompletionContext): Message[] {
  const ops = ctx.state.payload['operations'];
  const out: Message[] = [];
  for (const op of Array.isArray(ops) ? ops : []) {
    // A skipped entry was not applied (thin-edge: `@skip` entries have no cloud-side effect either).
    if (!isJsonObject(op) || !isJsonObject(op['payload']) || op['@skip'] === true) continue;
    const p = op['payload'];
    switch (op['operation']) {
      case 'firmware_update':
        out.push(ctx.twin('firmware', firmwareTwin(p)));
        break;
      case 'software_update':
        out.push(ctx.requestSoftwareList());
        break;
      case 'config_update':
        out.push(installedConfig(ctx, p));
        break;
      default:
        break;
    }
  }
  return out;
}

function builtin(op: BuiltinOperation, status: ReportedStatus, ctx: CompletionContext): Message[] {
  switch (status) {
    case 'executing':
      // 121,false: the device is not yet on the profile it is being moved to.
      return [...sr(ctx, executingLine), ...(op === 'device_profile' ? [ctx.smartrest(smartrestLine(121, 'false'))] : [])];
    case 'successful':
      switch (op) {
        case 'config_snapshot':
        case 'log_upload':
          // Reported (506 with the binary URL) and cleared once the upload is done: see uploadFinished.
          return [ctx.uploadRequest(op)];
        case 'software_update':
          return [...sr(ctx, successfulLine), ctx.requestSoftwareList(), ctx.clear()];
        case 'firmware_update':
          return [...sr(ctx, successfulLine), ctx.twin('firmware', firmwareTwin(ctx.state.payload)), ctx.clear()];
        case 'device_profile':
          return [...profileEffects(ctx), ctx.smartrest(smartrestLine(121, 'true')), ...sr(ctx, successfulLine), ctx.clear()];
        case 'config_update':
          return [installedConfig(ctx, ctx.state.payload), ...sr(ctx, successfulLine), ctx.clear()];
        case 'restart':
          return [...sr(ctx, successfulLine), ctx.clear()];
        default:
          return assertNever(op);
      }
    case 'failed': {
      const failed = sr(ctx, (r) => failedLine(r, reason(ctx)));
      // A partly applied update changes the installed software, so it is listed again either way.
      if (op === 'software_update') return [...failed, ctx.requestSoftwareList(), ctx.clear()];
      if (op === 'device_profile') return [ctx.requestSoftwareList(), ...failed, ctx.clear()];
      return [...failed, ctx.clear()];
    }
    default:
      return assertNever(status);
  }
}

/** Messages for a new reported status of a `c8y-mapper-*` command (§2.2 "Status tedge → c8y"). */
export function statusMessages(kind: CommandKind, status: ReportedStatus, ctx: CompletionContext): Message[] {
  switch (kind.kind) {
    case 'builtin':
      return builtin(kind.op, status, ctx);
    case 'custom': {
      if (status === 'executing') return sr(ctx, executingLine);
      if (status === 'failed') return [...sr(ctx, (r) => failedLine(r, reason(ctx))), ctx.clear()];
      const output = customOutput(ctx.state.payload);
      const line = 'error' in output ? sr(ctx, (r) => failedLine(r, output.error)) : sr(ctx, (r) => successfulLine(r, ...output.params));
      return [...line, ctx.clear()];
    }
    case 'software_list':
      // Not a Cumulocity operation: nothing to report, only the list to publish.
      if (status === 'executing') return [];
      return [...(status === 'successful' ? ctx.softwareList(ctx.state.payload) : []), ctx.clear()];
    default:
      return assertNever(kind);
  }
}

