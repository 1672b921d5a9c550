import type { JsonObject } from '../../../core/json';
import { ConversionError } from '../../../core/errors';
import { splitWords } from './argv';
import { substitute } from './custom';
import type { ExecSpec } from './operation-file';
import { type OperationRef, MAX_REASON_BYTES, executingLine, failedLine, successfulLine, truncateUtf8 } from './status';

/** A custom operation the mapper runs itself (`[exec] command`): what to run and how to report it. */
export interface ExecRequest {
  /** The Cumulocity operation (the file name), for by-name reporting and logs. */
  readonly name: string;
  /** The program and its arguments: never a shell. */
  readonly argv: readonly string[];
  readonly timeoutMs: number;
  readonly resultFormat: 'text' | 'csv';
  /** thin-edge's `skip_status_update`: the command reports the status itself. */
  readonly skipStatusUpdate: boolean;
  readonly ref: OperationRef;
  /** Where the statuses go (`c8y/s/us`: by id or by name, the operation is known to the tenant). */
  readonly smartrestTopic: string;
}

/** How the command ended: an exit code, or a reason it could not run or was killed. */
export type ExecOutcome = { readonly exitCode: number; readonly stdout: string; readonly stderr: string } | { readonly error: string };

/**
 * The argv of a JSON handler: the command's words, each with `${.payload.<path>}` filled from the Cumulocity
 * operation (thin-edge `ShellScript::inject_values`); a word stays one argument whatever it holds.
 */
export function jsonArgv(command: string, operation: JsonObject): string[] {
  return splitWords(command).map((w) => {
    const v = substitute(w, operation);
    return typeof v === 'string' ? v : JSON.stringify(v);
  });
}

/** The argv of a SmartREST handler: the command's words and the whole SmartREST line as the last argument. */
export function smartrestArgv(command: string, line: string): string[] {
  return [...splitWords(command), line];
}

export function execRequest(name: string, spec: ExecSpec, argv: string[], ref: OperationRef, smartrestTopic: string): ExecRequest {
  if (argv.length === 0 || argv[0] === '') throw new ConversionError(`Custom operation ${name}: the command is empty`);
  return { name, argv, timeoutMs: spec.timeoutSeconds * 1000, resultFormat: spec.resultFormat, skipStatusUpdate: spec.skipStatusUpdate, ref, smartrestTopic };
}

/** Control characters other than tab and newline cannot travel in a SmartREST field. */
function sanitize(text: string): string {
  return truncateUtf8(withoutControls(text).trim(), MAX_REASON_BYTES);
}

function withoutControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
}

/** The line before the command runs: 504/501, unless the command reports its status itself. */
export function execStartLines(req: ExecRequest): string[] {
  return req.skipStatusUpdate ? [] : [executingLine(req.ref)];
}

/**
 * The final line: exit 0 → 506/503 with stdout (one text field, or with `result_format = "csv"` the CSV
 * fields as written), else 505/502 with stderr, the exit code when stderr is empty.
 */
export function execEndLines(req: ExecRequest, outcome: ExecOutcome): string[] {
  if (req.skipStatusUpdate) return [];
  if ('error' in outcome) return [failedLine(req.ref, outcome.error)];
  if (outcome.exitCode !== 0) {
    const stderr = sanitize(outcome.stderr);
    return [failedLine(req.ref, stderr !== '' ? stderr : `${req.argv[0] ?? ''} exited with code ${outcome.exitCode}`)];
  }
  const stdout = sanitize(outcome.stdout);
  if (stdout === '') return [successfulLine(req.ref)];
  // A text result is stdout as the command wrote it, final newline included, as thin-edge reports it.
  if (req.resultFormat === 'text') return [successfulLine(req.ref, truncateUtf8(withoutControls(outcome.stdout), MAX_REASON_BYTES))];
  // CSV is already SmartREST fields: appended as written, not quoted again.
  return [`${successfulLine(req.ref)},${stdout.replace(/\n/g, ',')}`];
}
