import type { TedgeConfig } from '../config/tedge-config';
import type { Clock } from '../core/clock';

/** What the program needs from the outside world; bin passes the process, tests pass buffers. */
export interface CliDeps {
  /** Writes text to stdout as given (lines carry their own newline). */
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  /** Bytes to stdout as they are (`tedge http` answers may be binary); default: `out` of their UTF-8 text. */
  readonly outBytes?: (b: Uint8Array) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly version: string;
  /** Aborted on Ctrl-C / SIGTERM, so long-running commands (mqtt sub) finish cleanly. */
  readonly signal?: AbortSignal;
  /** Certificate validity and renewal checks read it; tests fix it. Default: the system clock. */
  readonly clock?: Clock;
}

/** What a command action sees: the deps plus the configuration selected by the global options. */
export interface CommandContext {
  readonly out: (s: string) => void;
  readonly outBytes: (b: Uint8Array) => void;
  readonly err: (s: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly signal: AbortSignal | undefined;
  readonly clock: Clock;
  /** Loaded when called, so that `--help` and usage errors never touch the config dir. */
  config(): TedgeConfig;
}
