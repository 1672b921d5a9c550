import { CommanderError } from 'commander';
import { type ErrorCode, errorMessage, isTedgeError } from '../core/errors';

/**
 * Exit codes of `tedge`, small and stable so scripts can branch on them:
 *
 * | code | meaning                                                   | errors                                                          |
 * |------|-----------------------------------------------------------|-----------------------------------------------------------------|
 * | 0    | success                                                   |                                                                 |
 * | 1    | failure: the command is valid but could not be carried out | MQTT_CONNECT, IO, CONFIG_FILE, CONFIG_INVALID_VALUE (also: key   |
 * |      |                                                           | not set), CONFIG_READ_ONLY, any other or unexpected error       |
 * | 2    | usage: the command line itself is wrong                   | unknown command/option, bad option argument, missing argument,  |
 * |      |                                                           | USAGE, CONFIG_UNKNOWN_KEY, INVALID_TOPIC                        |
 *
 * As with thin-edge.io (clap), a malformed command line is 2; everything else that fails is 1.
 */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export type ExitCode = typeof EXIT_OK | typeof EXIT_FAILURE | typeof EXIT_USAGE;

/** Partial on purpose: codes added to core later fall back to FAILURE instead of breaking the build. */
const BY_ERROR_CODE: Partial<Record<ErrorCode, ExitCode>> = {
  USAGE: EXIT_USAGE,
  CONFIG_UNKNOWN_KEY: EXIT_USAGE,
  INVALID_TOPIC: EXIT_USAGE,
};

export function exitCodeOf(error: unknown): ExitCode {
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
  return `error: ${errorMessage(error)}`;
}
