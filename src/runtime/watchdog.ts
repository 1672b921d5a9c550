import { existsSync } from 'node:fs';
import type { Bus } from '../bus/bus';
import { PROFILE_CLOUDS, mapperServiceName } from '../config/profiles';
import type { TedgeConfig } from '../config/tedge-config';
import { bridgeConfPath } from '../connect/cloud-endpoint';
import type { Clock, Timers } from '../core/clock';
import { message, payloadText } from '../core/message';
import { type EntityTopicId, serviceTopicId, topicFor } from '../core/topics';
import type { Logger } from '../log/logger';
import type { Service } from './service';

/** The units thin-edge's tedge-watchdog looks after (§4.5). */
export const WATCHED_SERVICES = ['tedge-mapper-c8y', 'tedge-mapper-az', 'tedge-mapper-aws', 'tedge-mapper-collectd', 'tedge-agent'] as const;

/** A service to watch and the unit file whose WatchdogSec applies to it. */
export interface WatchedUnit {
  readonly name: string;
  readonly unitFile: string;
}

/**
 * thin-edge's units, and the mapper of each cloud profile the device is connected to (its bridge file
 * exists, as for `tedge refresh-bridges`): `tedge-mapper-c8y@<name>`, an instance of the template
 * `tedge-mapper-c8y@.service`. thin-edge's template has no WatchdogSec so its watchdog skips them;
 * ours has one, so a profile's mapper gets the same health checks as the default one.
 */
export function watchedUnits(config: Pick<TedgeConfig, 'configDir' | 'profiles'>): WatchedUnit[] {
  const units: WatchedUnit[] = WATCHED_SERVICES.map((name) => ({ name, unitFile: `${name}.service` }));
  for (const cloud of PROFILE_CLOUDS) {
    for (const profile of config.profiles(cloud)) {
      if (!existsSync(bridgeConfPath(config.configDir, cloud, profile))) continue;
      units.push({ name: mapperServiceName({ cloud, profile }), unitFile: `tedge-mapper-${cloud}@.service` });
    }
  }
  return units;
}

/** Each unit whose file (read by `readUnit`, undefined when absent) has WatchdogSec, checked every WatchdogSec/4. */
export function watchedServices(units: readonly WatchedUnit[], readUnit: (file: string) => string | undefined, device: string): WatchedService[] {
  const watched: WatchedService[] = [];
  for (const unit of units) {
    const text = readUnit(unit.unitFile);
    const seconds = text === undefined ? undefined : watchdogSecOf(text);
    if (seconds !== undefined) watched.push({ name: unit.name, entity: serviceTopicId(device, unit.name), intervalMs: Math.max(1, Math.floor(seconds / NOTIFY_RATIO)) * 1000 });
  }
  return watched;
}

/** thin-edge pings every WatchdogSec/4 (at least every second). */
export const NOTIFY_RATIO = 4;

/** `WatchdogSec=<seconds>` of a unit file's [Service] section; undefined when absent or not whole seconds (as thin-edge reads it). */
export function watchdogSecOf(unitText: string): number | undefined {
  let section = '';
  let found: number | undefined;
  for (const raw of unitText.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) section = line;
    else if (section === '[Service]') {
      const m = /^WatchdogSec\s*=\s*(\S+)$/.exec(line);
      if (m?.[1] !== undefined) found = /^\d+$/.test(m[1]) && Number(m[1]) > 0 ? Number(m[1]) : undefined;
    }
  }
  return found;
}

/**
 * The pid of a health message that answers a check sent at `requestedAtS` (unix seconds): a `time`
 * (unix seconds or RFC 3339) not older than the request, and a `pid`. Undefined for a stale or invalid one.
 */
export function freshHealthPid(payload: string, requestedAtS: number): number | undefined {
  let health: { pid?: unknown; time?: unknown };
  try {
    health = JSON.parse(payload) as { pid?: unknown; time?: unknown };
  } catch {
    return undefined;
  }
  if (typeof health !== 'object' || health === null || typeof health.pid !== 'number') return undefined;
  const t = typeof health.time === 'number' ? health.time : typeof health.time === 'string' ? Date.parse(health.time) / 1000 : Number.NaN;
  return Number.isFinite(t) && Math.floor(t) >= requestedAtS ? health.pid : undefined;
}

export interface WatchedService {
  /** The unit's name, e.g. tedge-agent. */
  readonly name: string;
  readonly entity: EntityTopicId;
  readonly intervalMs: number;
}

/**
 * thin-edge's watchdog loop, one per service: publish `<service>/cmd/health/check`, and when a fresh health
 * status comes back within the interval, tell systemd WATCHDOG=1 for the pid it names (the service's own).
 * A service that does not answer in time gets no ping; systemd restarts it once WatchdogSec has passed.
 */
export class HealthWatchdog implements Service {
  readonly name = 'health-watchdog';
  private readonly pending = new Map<string, number>();
  private readonly timers = new Map<string, () => void>();

  constructor(
    private readonly deps: {
      readonly bus: Bus;
      readonly clock: Clock;
      readonly timers: Timers;
      readonly logger: Logger;
      readonly root: string;
      readonly services: readonly WatchedService[];
      readonly notify: (pid: number) => void;
    },
  ) {}

  private healthTopic(s: WatchedService): string {
    return topicFor(s.entity, { kind: 'health' }, this.deps.root);
  }

  async start(): Promise<void> {
    const { bus, services, logger } = this.deps;
    const byTopic = new Map(services.map((s) => [this.healthTopic(s), s]));
    bus.onMessage((m) => {
      const s = byTopic.get(m.topic);
      const requestedAt = s === undefined ? undefined : this.pending.get(s.name);
      if (s === undefined || requestedAt === undefined) return;
      const pid = freshHealthPid(payloadText(m), requestedAt);
      if (pid === undefined) return;
      this.pending.delete(s.name);
      logger.debug(`${s.name} answered: WATCHDOG=1 for pid ${pid}`);
      this.deps.notify(pid);
    });
    await bus.subscribe([...byTopic.keys()], 1);
    for (const s of services) {
      logger.info(`watching ${s.name}: a health check every ${s.intervalMs / 1000} s`);
      this.tick(s);
    }
  }

  private tick(s: WatchedService): void {
    if (this.pending.has(s.name)) this.deps.logger.warn(`no health check response received from ${s.name} in time`);
    this.pending.set(s.name, Math.floor(this.deps.clock.now().getTime() / 1000));
    this.deps.bus.publish(message(topicFor(s.entity, { kind: 'command', operation: 'health', cmdId: 'check' }, this.deps.root), '', { qos: 0 })).catch(() => {});
    this.timers.set(s.name, this.deps.timers.after(s.intervalMs, () => this.tick(s)));
  }

  async stop(): Promise<void> {
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
  }
}
