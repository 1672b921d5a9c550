import type { Bus, LastWill } from '../bus/bus';
import type { Clock } from '../core/clock';
import { message } from '../core/message';
import { type EntityTopicId, parseTopic, topicFor } from '../core/topics';
import type { Service } from './service';

export interface HealthOptions {
  readonly root: string;
  /** The service's own entity, e.g. device/main/service/tedge-mapper-c8y. */
  readonly service: EntityTopicId;
  /** The device the service runs on: a health check on it asks every service. */
  readonly device: EntityTopicId;
  readonly timestampFormat: 'unix' | 'rfc-3339';
}

/** Time in status payloads, per service.timestamp_format. */
export function statusTimestamp(now: Date, format: 'unix' | 'rfc-3339'): number | string {
  return format === 'unix' ? Math.floor(now.getTime() / 1000) : now.toISOString();
}

/** As every thin-edge service: `{"status":"up","pid":…,"time":…}`; `down` carries no time, like the last will. */
export function healthPayload(status: 'up' | 'down', pid: number, now: Date, format: 'unix' | 'rfc-3339'): string {
  return JSON.stringify(status === 'up' ? { status, pid, time: statusTimestamp(now, format) } : { status, pid });
}

export function healthTopic(opts: Pick<HealthOptions, 'root' | 'service'>): string {
  return topicFor(opts.service, { kind: 'health' }, opts.root);
}

/** The retained `down` status the broker publishes if the daemon dies (§1.4). */
export function healthLastWill(opts: Pick<HealthOptions, 'root' | 'service'>, pid: number): LastWill {
  return { topic: healthTopic(opts), payload: JSON.stringify({ status: 'down', pid }), qos: 1, retain: true };
}

/**
 * Publishes `up` (retained) at start and after every reconnect, answers `cmd/health/check`
 * on the service or its device, and publishes `down` at a clean stop.
 */
export class HealthReporter implements Service {
  readonly name = 'health';

  constructor(
    private readonly bus: Bus,
    private readonly clock: Clock,
    private readonly opts: HealthOptions,
    private readonly pid: number,
  ) {}

  private status(status: 'up' | 'down'): string {
    return healthPayload(status, this.pid, this.clock.now(), this.opts.timestampFormat);
  }

  publishUp(): Promise<void> {
    return this.bus.publish(message(healthTopic(this.opts), this.status('up'), { qos: 1, retain: true }));
  }

  /** Filters that must be subscribed for health checks to reach this service. */
  checkFilters(): string[] {
    const check = { kind: 'command', operation: 'health', cmdId: 'check' } as const;
    return [topicFor(this.opts.service, check, this.opts.root), topicFor(this.opts.device, check, this.opts.root)];
  }

  /** True when the message was a health check (and it has been answered). */
  handle(topic: string): boolean {
    const t = parseTopic(topic, this.opts.root);
    if (t?.channel.kind !== 'command' || t.channel.operation !== 'health' || t.channel.cmdId !== 'check') return false;
    if (t.entity !== this.opts.service && t.entity !== this.opts.device) return false;
    void this.publishUp().catch(() => {});
    return true;
  }

  async start(): Promise<void> {
    this.bus.onConnectionChange((connected) => {
      if (connected) void this.publishUp().catch(() => {});
    });
    await this.publishUp();
  }

  /**
   * Publishes `down`, but does not wait more than `deadlineMs` for a broker that may be gone: a stop must end.
   * With the broker already gone there is no one to tell (its retained `up` stays until the next start).
   */
  async stop(deadlineMs = 2000): Promise<void> {
    if (!this.bus.isConnected) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs);
    });
    const published = this.bus.publish(message(healthTopic(this.opts), this.status('down'), { qos: 1, retain: true })).catch(() => {});
    await Promise.race([published, deadline]);
    clearTimeout(timer);
  }
}

