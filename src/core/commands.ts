import { ConversionError } from './errors';
import { type JsonObject, parseJsonObject } from './json';

/** Command states (§1.5). Subscribers ignore statuses they do not know, so the type stays open. */
export type CommandStatus = 'init' | 'executing' | 'successful' | 'failed' | (string & {});

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['successful', 'failed']);

export function isTerminal(status: CommandStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** A command instance payload; unknown fields are kept so executors can republish them unchanged. */
export interface CommandState {
  readonly status: CommandStatus;
  readonly reason?: string;
  readonly payload: JsonObject;
}

/** Parses `te/<id>/cmd/<op>/<id>`; undefined for the empty payload that clears the command. */
export function parseCommand(text: string): CommandState | undefined {
  if (text.length === 0) return undefined;
  const payload = parseJsonObject(text, 'a command payload');
  const status = payload['status'] ?? 'init';
  if (typeof status !== 'string') throw new ConversionError('Invalid command: "status" must be a string');
  const reason = payload['reason'];
  return typeof reason === 'string' ? { status, reason, payload } : { status, payload };
}

/** Operations thin-edge knows by name; any other string is a custom operation. */
export const KNOWN_OPERATIONS = [
  'restart',
  'software_list',
  'software_update',
  'log_upload',
  'config_snapshot',
  'config_update',
  'firmware_update',
  'device_profile',
  'health',
] as const;
