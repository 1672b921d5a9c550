import { TedgeError } from '../../core/errors';

/**
 * The one error a download or an upload ends with: the URL, and either the HTTP status the server
 * answered or the network cause. Callers put `message` in a command's `reason` as is.
 */
export class TransferError extends TedgeError {
  /** The HTTP status when the server answered with one; undefined for network/file errors. */
  readonly status: number | undefined;

  constructor(message: string, options?: { cause?: unknown; status?: number }) {
    super('IO', message, options);
    this.name = 'TransferError';
    this.status = options?.status;
  }
}

export function isTransferError(e: unknown): e is TransferError {
  return e instanceof TransferError;
}

/** The URL without credentials, for logs and reasons (a presigned query string stays: it is the address). */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}
