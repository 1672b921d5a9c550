import type { AckingHandler, Bus } from '../bus/bus';
import type { Clock, Timers } from '../core/clock';
import { errorMessage } from '../core/errors';
import type { Logger } from '../log/logger';
import { type ReconnectEvent, type ReconnectPolicy, nextDelay } from './reconnect-policy';

/** What the bridge needs of each side's MQTT connection: a Bus whose consumer acknowledges. */
export interface BridgeBus extends Bus {
  onMessageWithAck(handler: AckingHandler): void;
  /** Ends without DISCONNECT, at once: for a connection that is already broken. */
  abort(): Promise<void>;
}

export interface CloudLinkDeps {
  /**
   * One connection attempt: resolves connected, or rejects with one clear line (DNS, TCP, TLS, refused,
   * timeout). `signal` aborts it: a stop must not wait for a handshake that never completes.
   */
  readonly connect: (signal: AbortSignal) => Promise<BridgeBus>;
  readonly policy: ReconnectPolicy;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: Logger;
  /** The connection is up: subscribe and start sending. A rejection counts as a lost connection. */
  readonly onUp: (cloud: BridgeBus) => Promise<void>;
  /** The connection went down (onUp may not have finished). */
  readonly onDown: () => void;
}

/**
 * Keeps one cloud connection: connects, and after a failure or a lost connection waits as the
 * reconnect policy says, then tries again, until stopped. MQTT.js's own fixed-period reconnect is
 * off for the cloud (reconnectPeriod 0), so the back-off here is the only one.
 */
export class CloudLink {
  private current: BridgeBus | undefined;
  private upAt = 0;
  private nextMs: number;
  private cancelTimer: (() => void) | undefined;
  private stopped = true;
  private lastError: string | undefined;
  /** The attempt in progress, if any. */
  private attempting: AbortController | undefined;

  constructor(private readonly deps: CloudLinkDeps) {
    this.nextMs = deps.policy.initialMs;
  }

  get connected(): boolean {
    return this.current !== undefined;
  }

  /** False once `bus` was lost or replaced: work begun for it (subscribing) must not go on. */
  isCurrent(bus: BridgeBus): boolean {
    return this.current === bus;
  }

  start(): void {
    this.stopped = false;
    void this.attempt();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.attempting?.abort();
    const bus = this.current;
    this.current = undefined;
    if (bus === undefined) return;
    // A clean DISCONNECT waits for PUBACKs in flight; a cloud that does not answer must not hold up a stop.
    let cancel = (): void => {};
    const timedOut = new Promise<'timeout'>((resolve) => (cancel = this.deps.timers.after(2000, () => resolve('timeout'))));
    const result = await Promise.race([bus.close().then(() => 'closed' as const, () => 'failed' as const), timedOut]);
    cancel();
    if (result !== 'closed') await bus.abort().catch(() => {});
  }

  private async attempt(): Promise<void> {
    this.cancelTimer = undefined;
    if (this.stopped) return;
    let bus: BridgeBus;
    const attempt = new AbortController();
    this.attempting = attempt;
    try {
      bus = await this.deps.connect(attempt.signal);
    } catch (err) {
      if (this.stopped) return;
      const text = errorMessage(err);
      // The same failure every few minutes is one story: log it again only when it changes.
      if (text !== this.lastError) this.deps.logger.warn({ err: text }, 'cannot connect to the cloud');
      this.lastError = text;
      this.retry({ kind: 'attempt-failed' });
      return;
    } finally {
      this.attempting = undefined;
    }
    if (this.stopped) {
      await bus.abort();
      return;
    }
    this.lastError = undefined;
    this.current = bus;
    this.upAt = this.deps.clock.now().getTime();
    bus.onConnectionChange((connected) => {
      if (!connected) this.lost(bus, 'connection lost');
    });
    this.deps.logger.info('connected to the cloud');
    try {
      await this.deps.onUp(bus);
    } catch (err) {
      this.lost(bus, `setting up the connection failed: ${errorMessage(err)}`);
    }
  }

  private lost(bus: BridgeBus, why: string): void {
    if (bus !== this.current) return;
    this.current = undefined;
    this.deps.logger.warn({ reason: why }, 'disconnected from the cloud');
    this.deps.onDown();
    void bus.abort().catch(() => {});
    this.retry({ kind: 'connection-lost', upMs: this.deps.clock.now().getTime() - this.upAt });
  }

  private retry(event: ReconnectEvent): void {
    if (this.stopped) return;
    const { delayMs, current } = nextDelay(this.deps.policy, this.nextMs, event);
    this.nextMs = current;
    this.deps.logger.info({ delayMs }, 'reconnecting to the cloud after a delay');
    this.cancelTimer = this.deps.timers.after(delayMs, () => void this.attempt());
  }
}
