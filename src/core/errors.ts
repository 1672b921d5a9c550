/**
 * Errors carry a stable `code` (branch on it, never on message text) and an optional `cause`.
 * The CLI maps codes to exit codes in one place (cli/exit-codes.ts).
 */
export type ErrorCode =
  | 'INVALID_TOPIC'
  | 'INVALID_PAYLOAD'
  | 'UNKNOWN_CHANNEL'
  | 'CONFIG_UNKNOWN_KEY'
  | 'CONFIG_INVALID_VALUE'
  | 'CONFIG_READ_ONLY'
  | 'CONFIG_FILE'
  | 'MQTT_CONNECT'
  | 'IO'
  | 'USAGE'
  // Device certificates (src/certs): each names the file and the problem in one line.
  | 'CERT_MISSING'
  | 'CERT_EXISTS'
  | 'CERT_INVALID'
  | 'CERT_EXPIRED'
  | 'CERT_NOT_YET_VALID'
  | 'CERT_KEY_MISSING'
  | 'CERT_KEY_INVALID'
  | 'CERT_KEY_MISMATCH'
  | 'CERT_INVALID_DEVICE_ID'
  | 'CERT_UNSUPPORTED'
  // TLS with a cloud: we do not trust the server, or the server does not accept our certificate.
  | 'CERT_UNTRUSTED_SERVER'
  | 'CERT_REJECTED'
  // `tedge connect`: why the cloud could not be reached, one code per layer (src/connect/classify.ts).
  | 'CONNECT_DNS'
  | 'CONNECT_TCP'
  | 'CONNECT_TLS'
  | 'CONNECT_TIMEOUT'
  | 'CONNECT_REFUSED'
  | 'CONNECT_TEST_FAILED'
  | 'CONNECT_ALREADY_CONNECTED'
  | 'CONNECT_NOT_CONNECTED'
  // A command of <config-dir>/system.toml could not be run or exited non-zero.
  | 'SERVICE_COMMAND';

export class TedgeError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TedgeError';
    this.code = code;
  }
}

/** A message that cannot be converted. The mapper publishes it on `te/errors` and goes on. */
export class ConversionError extends TedgeError {
  constructor(message: string, options?: { cause?: unknown; code?: ErrorCode }) {
    super(options?.code ?? 'INVALID_PAYLOAD', message, options);
    this.name = 'ConversionError';
  }
}

export function isTedgeError(e: unknown): e is TedgeError {
  return e instanceof TedgeError;
}

export function isConversionError(e: unknown): e is ConversionError {
  return e instanceof ConversionError;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function assertNever(x: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(x)}`);
}
