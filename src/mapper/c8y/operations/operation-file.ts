import { type JsonObject, type JsonValue, isJsonObject } from '../../../core/json';
import { ConversionError } from '../../../core/errors';

/** thin-edge's default `timeout` of a custom operation command: one hour. */
export const DEFAULT_EXEC_TIMEOUT_S = 3600;

/** The `[exec]` table of an operation file (`crates/extensions/c8y_mapper_ext/src/supported_operations/operation.rs`). */
export interface ExecSpec {
  /** `c8y/s/ds` for SmartREST handlers (`c8y/` replaced by the configured prefix). */
  readonly topic?: string;
  /** SmartREST template id, e.g. `511`. */
  readonly onMessage?: string;
  /** JSON fragment of a Cumulocity operation, e.g. `c8y_Command`. */
  readonly onFragment?: string;
  /** Command line, split into words (never a shell); `${.payload.<path>}` taken from the operation. */
  readonly command?: string;
  readonly resultFormat: 'text' | 'csv';
  readonly timeoutSeconds: number;
  readonly skipStatusUpdate: boolean;
  /** `[exec.workflow]`: the operation is delegated to the agent as `te/<id>/cmd/<operation>/…`. Its `input` may be
   * any value (thin-edge's `input = "${.payload.c8y_OpenDoor}"`); filled in, it must be an object. */
  readonly workflow?: { readonly operation: string; readonly input?: JsonValue; readonly output?: JsonValue };
}

/** One file of `<config-dir>/operations/c8y[/<xid>]/`: its name is the Cumulocity operation. */
export interface OperationFile {
  readonly name: string;
  /** `<name>.template`: activated only when an entity's agent declares the workflow operation. */
  readonly template: boolean;
  readonly exec?: ExecSpec;
}

/** thin-edge ignores other file names (editor backups, `.swp`): `[A-Za-z0-9_]+` with an optional `.template`. */
export function operationFileName(fileName: string): { name: string; template: boolean } | undefined {
  const m = /^([A-Za-z0-9_]+)(\.template)?$/.exec(fileName);
  return m?.[1] === undefined ? undefined : { name: m[1], template: m[2] !== undefined };
}

function str(t: Record<string, unknown>, key: string, file: string): string | undefined {
  const v = t[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new ConversionError(`${file}: [exec] ${key} must be a string`);
  return v;
}

function timeoutSeconds(v: unknown, file: string): number {
  if (v === undefined) return DEFAULT_EXEC_TIMEOUT_S;
  if (typeof v === 'number' && v > 0) return v;
  if (typeof v === 'bigint' && v > 0n) return Number(v);
  throw new ConversionError(`${file}: [exec] timeout must be a positive number of seconds`);
}

function workflowSpec(v: unknown, file: string): ExecSpec['workflow'] {
  if (v === undefined) return undefined;
  if (!isJsonObject(v as JsonValue)) throw new ConversionError(`${file}: [exec.workflow] must be a table`);
  const w = v as Record<string, unknown>;
  const operation = w['operation'];
  if (typeof operation !== 'string' || operation === '') throw new ConversionError(`${file}: [exec.workflow] operation must be a string`);
  const input = w['input'] as JsonValue | undefined;
  return { operation, ...(input !== undefined ? { input } : {}), ...(w['output'] !== undefined ? { output: w['output'] as JsonValue } : {}) };
}

/**
 * An operation file, parsed TOML → what it declares. A file without `[exec]` only adds its name to the 114.
 * Handlers are checked as thin-edge checks them: SmartREST ones need topic + command and no on_fragment;
 * JSON ones need on_fragment and either a command or a workflow, not both.
 */
export function operationFile(fileName: string, toml: Record<string, unknown>): OperationFile {
  const parsed = operationFileName(fileName);
  if (parsed === undefined) throw new ConversionError(`${fileName}: not an operation name (only A-Z a-z 0-9 _ and an optional .template)`);
  const exec = toml['exec'];
  if (exec === undefined) return parsed;
  if (typeof exec !== 'object' || exec === null || Array.isArray(exec)) throw new ConversionError(`${fileName}: [exec] must be a table`);
  const t = exec as Record<string, unknown>;
  const format = str(t, 'result_format', fileName) ?? 'text';
  if (format !== 'text' && format !== 'csv') throw new ConversionError(`${fileName}: [exec] result_format must be text or csv`);
  const skip = t['skip_status_update'] ?? false;
  if (typeof skip !== 'boolean') throw new ConversionError(`${fileName}: [exec] skip_status_update must be true or false`);
  const spec: ExecSpec = {
    ...optional('topic', str(t, 'topic', fileName)),
    ...optional('onMessage', t['on_message'] === undefined ? undefined : String(t['on_message'])),
    ...optional('onFragment', str(t, 'on_fragment', fileName)),
    ...optional('command', str(t, 'command', fileName)),
    ...optional('workflow', workflowSpec(t['workflow'], fileName)),
    resultFormat: format,
    timeoutSeconds: timeoutSeconds(t['timeout'], fileName),
    skipStatusUpdate: skip,
  };
  validate(spec, fileName);
  return { ...parsed, exec: spec };
}

function optional<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };
}

function validate(spec: ExecSpec, file: string): void {
  if (spec.onMessage !== undefined) {
    if (spec.topic === undefined) throw new ConversionError(`${file}: a SmartREST handler (on_message) needs a topic`);
    if (spec.onFragment !== undefined) throw new ConversionError(`${file}: on_message and on_fragment exclude each other`);
    if (spec.command === undefined) throw new ConversionError(`${file}: a SmartREST handler (on_message) needs a command`);
    return;
  }
  if (spec.onFragment === undefined) throw new ConversionError(`${file}: [exec] needs on_message or on_fragment`);
  if (spec.command === undefined && spec.workflow === undefined) throw new ConversionError(`${file}: [exec] needs a command or an [exec.workflow] operation`);
  if (spec.command !== undefined && spec.workflow !== undefined) throw new ConversionError(`${file}: [exec] has both a command and a workflow`);
}
