import { CommanderError } from 'commander';
import { type ErrorCode, errorMessage, isTedgeError } from '../core/errors';

/**
 * Exit codes of `tedge`, small and stable so scripts can branch on them:
 *
 * | code | meaning                                                   | errors                                                          |
 * |------|-----------------------------------------------------------|-----------------------------------------------------------------|
 * | 0    | success                                                   |                                                                 |
 * | 1    | failure: the command is valid but could not be carried out | MQTT_CONNECT, IO, CONFIG_FILE, CONFIG_INVALID_VALUE (also: key   |
 * |      |                                                           | not set), CONFIG_READ_ONLY, CERT_* (missing, exists, invalid,   |
 * |      |                                                           | expired, key mismatch...), CONNECT_* (DNS, TCP, TLS, timeout,   |
 * |      |                                                           | refused, already/not connected), SERVICE_COMMAND, any other or  |
 * |      |                                                           | unexpected error                                                |
 * | 2    | usage: the command line itself is wrong                   | unknown command/option, bad option argument, missing argument,  |
 * |      |                                                           | USAGE, CONFIG_UNKNOWN_KEY, INVALID_TOPIC                        |
 * | 3    | `tedge connect`/`reconnect`: connected with the current   | the cloud refused the renewed certificate `<cert>.new` (or it   |
 * |      | certificate; the renewed one stays a candidate            | is expired, invalid, not matching the key); printed as one line |
 *
 * As with thin-edge.io (clap), a malformed command line is 2; everything else that fails is 1.
 *
 * One exception, a command whose exit code is its answer: `tedge cert needs-renewal` exits 0 when the
 * certificate must be renewed, 1 when it is fine, 2 on any error (thin-edge's contract, used as a
 * systemd ExecCondition). It throws ExitStatus to say so.
 */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** thin-edge's code for "connected, but the new certificate was not used" (§3.2 step 4). */
export const EXIT_CANDIDATE_NOT_USED = 3;

export type ExitCode = typeof EXIT_OK | typeof EXIT_FAILURE | typeof EXIT_USAGE | typeof EXIT_CANDIDATE_NOT_USED;

/** Partial on purpose: codes added to core later fall back to FAILURE instead of breaking the build. */
const BY_ERROR_CODE: Partial<Record<ErrorCode, ExitCode>> = {
  USAGE: EXIT_USAGE,
  CONFIG_UNKNOWN_KEY: EXIT_USAGE,
  INVALID_TOPIC: EXIT_USAGE,
};

/**
 * Thrown by a command whose exit code carries a result rather than a failure (needs-renewal). Commands
 * return nothing, so this is how one picks its code; `error` is printed as the usual one line, if any.
 */
export class ExitStatus extends Error {
  constructor(
    readonly exitCode: ExitCode,
    readonly error?: unknown,
  ) {
    super(error === undefined ? `exit status ${exitCode}` : errorMessage(error), { cause: error });
    this.name = 'ExitStatus';
  }
}

export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof ExitStatus) return error.exitCode;
  if (error instanceof CommanderError) {
    // --help and --version "exit" with 0; help shown for a missing subcommand is a usage error.
    return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  if (isTedgeError(error)) return BY_ERROR_CODE[error.code] ?? EXIT_FAILURE;
  return EXIT_FAILURE;
}

/** The one line printed on stderr; undefined when commander has already printed its own. */
export function errorLine(error: unknown): string | undefined {
  if (error instanceof CommanderError) return undefined;
  if (error instanceof ExitStatus) return error.error === undefined ? undefined : `error: ${errorMessage(error.error)}`;
  return `error: ${errorMessage(error)}`;
}
