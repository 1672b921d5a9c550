/**
 * Which failures of a request to Cumulocity are retried: only idempotent methods (a POST that timed out
 * may have created the event), only when the body can be sent again, and only for failures that say
 * nothing was done (no answer, or a gateway/overload status).
 */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const RETRIED_STATUS = new Set([429, 502, 503, 504]);

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method.toUpperCase());
}

export type Attempt = { readonly kind: 'status'; readonly status: number } | { readonly kind: 'network' };

export function shouldRetry(method: string, replayable: boolean, attempt: Attempt, tries: number, maxTries: number): boolean {
  if (tries >= maxTries || !replayable || !isIdempotent(method)) return false;
  return attempt.kind === 'network' || RETRIED_STATUS.has(attempt.status);
}

/** 200 ms, 400 ms, 800 ms…, at most 5 s. */
export function retryDelayMs(tries: number): number {
  return Math.min(5000, 200 * 2 ** Math.max(0, tries - 1));
}
