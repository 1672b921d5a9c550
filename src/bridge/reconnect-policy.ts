/** `mqtt.bridge.reconnect_policy.*` (§3.3): 5s doubling up to 10m, back to 5s after 5m connected. */
export interface ReconnectPolicy {
  readonly initialMs: number;
  readonly maximumMs: number;
  readonly resetWindowMs: number;
}

export type ReconnectEvent =
  /** A connection attempt failed (DNS, TCP, TLS, CONNACK refused, timeout). */
  | { readonly kind: 'attempt-failed' }
  /** An established connection was lost after being up for `upMs`. */
  | { readonly kind: 'connection-lost'; readonly upMs: number };

/**
 * Pure back-off: given the delay the next failure would wait (`current`), the delay to wait now
 * and the next `current`. A connection that lasted the reset window starts over at the initial delay.
 */
export function nextDelay(policy: ReconnectPolicy, current: number, event: ReconnectEvent): { readonly delayMs: number; readonly current: number } {
  const base = event.kind === 'connection-lost' && event.upMs >= policy.resetWindowMs ? policy.initialMs : current;
  const delayMs = Math.min(Math.max(base, 0), policy.maximumMs);
  return { delayMs, current: Math.min(Math.max(delayMs * 2, policy.initialMs), policy.maximumMs) };
}
