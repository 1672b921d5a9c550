import { spawn } from 'node:child_process';
import type { Logger } from '../log/logger';
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
    notifySystemd(proc, 'READY=1');
    const signal = await stopped;
    this.logger.info({ signal }, 'stopping');
    await this.stop();
  }
}

/**
 * sd_notify without a native dependency: systemd-notify with the daemon's PID.
 * A no-op when not started by systemd (NOTIFY_SOCKET unset).
 */
function notifySystemd(proc: NodeJS.Process, state: string): void {
  if (!proc.env['NOTIFY_SOCKET']) return;
  spawn('systemd-notify', [`--pid=${proc.pid}`, state], { stdio: 'ignore' }).on('error', () => {});
}
