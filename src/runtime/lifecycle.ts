import type { Logger } from '../log/logger';
import { SystemdNotifier } from './sd-notify';
import type { Service } from './service';

/**
 * Starts services in order and stops them in reverse; a service that fails to stop does not keep
 * the others running. Resolves when a stop was requested (signal) and everything has stopped.
 */
export class Lifecycle {
  private readonly started: Service[] = [];
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly services: readonly Service[],
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    for (const service of this.services) {
      await service.start();
      this.started.push(service);
      this.logger.debug({ service: service.name }, 'started');
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const service of [...this.started].reverse()) {
        try {
          await service.stop();
        } catch (err) {
          this.logger.error({ err, service: service.name }, 'failed to stop cleanly');
        }
      }
    })();
    return this.stopping;
  }

  /** Starts, then waits for SIGTERM/SIGINT and stops. */
  async runUntilSignal(proc: NodeJS.Process): Promise<void> {
    const stopped = new Promise<string>((resolve) => {
      proc.once('SIGTERM', () => resolve('SIGTERM'));
      proc.once('SIGINT', () => resolve('SIGINT'));
    });
    await this.start();
    const systemd = new SystemdNotifier(proc.env, proc.pid);
    systemd.notify('READY=1');
    // WatchdogSec in the unit: a blocked event loop stops the pings and systemd restarts the daemon.
    const watchdogMs = systemd.watchdogIntervalMs();
    const watchdog = watchdogMs === undefined ? undefined : setInterval(() => systemd.notify('WATCHDOG=1'), watchdogMs);
    const signal = await stopped;
    if (watchdog) clearInterval(watchdog);
    this.logger.info({ signal }, 'stopping');
    systemd.notify('STOPPING=1');
    await this.stop();
  }
}
