import type { CommandState } from '../../../core/commands';
import { assertNever } from '../../../core/errors';
import { type JsonObject, type JsonValue, isJsonObject } from '../../../core/json';
import type { Message } from '../../../core/message';
import { smartrestLine } from '../smartrest';
import type { ReportedStatus } from './command-tracker';
import type { BuiltinOperation } from './names';
import { advancedSoftwareList } from './software';
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
}

function sr(ctx: CompletionContext, line: (r: OperationRef) => string): Message[] {
  return ctx.ref === undefined ? [] : [ctx.smartrest(line(ctx.ref))];
}

function reason(ctx: CompletionContext): string {
  return ctx.state.reason ?? '';
}

/** `{name, version, remoteUrl}` of a firmware payload, as the twin fragment `firmware` (→ c8y_Firmware). */
function firmwareTwin(p: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k of ['name', 'version', 'remoteUrl']) {
    const v = p[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** device_profile success: apply each part's cloud-side effect (firmware twin, software list, 120 per config). */
function profileEffects(ctx: CompletionContext): Message[] {
  const ops = ctx.state.payload['operations'];
  const out: Message[] = [];
  for (const op of Array.isArray(ops) ? ops : []) {
    if (!isJsonObject(op) || !isJsonObject(op['payload'])) continue;
    const p = op['payload'];
    switch (op['operation']) {
      case 'firmware_update':
        out.push(ctx.twin('firmware', firmwareTwin(p)));
        break;
      case 'software_update':
        out.push(ctx.requestSoftwareList());
        break;
      case 'config_update': {
        const text = (k: string): string => {
          const v = p[k];
          return typeof v === 'string' ? v : '';
        };
        out.push(ctx.smartrest(smartrestLine(120, text('type'), text('serverUrl'), text('name'))));
        break;
      }
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
        case 'restart':
        case 'config_update':
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
      const result = ctx.state.payload['result'];
      const params = typeof result === 'string' && result !== '' ? [result] : [];
      const line = status === 'successful' ? sr(ctx, (r) => successfulLine(r, ...params)) : sr(ctx, (r) => failedLine(r, reason(ctx)));
      return [...line, ctx.clear()];
    }
    case 'software_list':
      // Not a Cumulocity operation: nothing to report, only the list to publish.
      if (status === 'executing') return [];
      return [...(status === 'successful' ? advancedSoftwareList(ctx.state.payload).map((l) => ctx.smartrest(l)) : []), ctx.clear()];
    default:
      return assertNever(kind);
  }
}

