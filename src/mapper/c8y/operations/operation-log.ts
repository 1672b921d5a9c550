import type { CommandState } from '../../../core/commands';
import type { ReportedStatus } from './command-tracker';

/** `c8y.operations.auto_log_upload` */
export type AutoLogUpload = 'never' | 'always' | 'on-failure';

export function parseAutoLogUpload(text: string): AutoLogUpload {
  return text === 'never' || text === 'always' ? text : 'on-failure';
}

/** The agent's log of one finished command, to be attached to a new event `<op>_op_log` of the entity. */
export interface OperationLogRequest {
  readonly externalId: string;
  readonly operation: string;
  readonly cmdId: string;
  readonly logPath: string;
  readonly eventType: string;
  readonly text: string;
}

/**
 * What to upload when a command ends, as thin-edge's `upload_operation_log`: with `always` every finished
 * command's log, with `on-failure` (the default) a failed one's; the log named by the command's `logPath`,
 * else where the agent writes it (`<logs.path>/agent/workflow-<op>-<cmd id>.log`).
 */
export function operationLogRequest(
  policy: AutoLogUpload,
  status: ReportedStatus,
  cmd: { readonly externalId: string; readonly operation: string; readonly cmdId: string; readonly state: CommandState },
  defaultPath: ((operation: string, cmdId: string) => string) | undefined,
): OperationLogRequest | undefined {
  if (status === 'executing' || policy === 'never' || (policy === 'on-failure' && status !== 'failed')) return undefined;
  const given = cmd.state.payload['logPath'];
  const logPath = typeof given === 'string' && given !== '' ? given : defaultPath?.(cmd.operation, cmd.cmdId);
  if (logPath === undefined) return undefined;
  return { externalId: cmd.externalId, operation: cmd.operation, cmdId: cmd.cmdId, logPath, eventType: `${cmd.operation}_op_log`, text: `${cmd.operation} operation log` };
}
