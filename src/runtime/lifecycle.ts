import type { Logger } from '../log/logger';
import { SystemdNotifier } from './sd-notify';
import type { Service } from './service';

/** Under systemd's and `tedge run all`'s patience, and the "SIGTERM returns within 5 s" promise. */
export const STOP_DEADLINE_MS = 4500;

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

  /** Starts the services in order; when one fails, those already started are stopped before the error goes on. */
  async start(): Promise<void> {
    for (const service of this.services) {
      try {
        await service.start();
      } catch (err) {
        await this.stop();
        throw err;
      }
      this.started.push(service);
      this.logger.debug({ service: service.name }, 'started');
    }
  }

  /**
   * Stops in reverse order. Each service bounds its own waits (a broker that is gone, a cloud that does
   * not answer); `deadlineMs` bounds the whole, so that a stop returns in every state.
   */
  stop(deadlineMs = STOP_DEADLINE_MS): Promise<void> {
    this.stopping ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), deadlineMs)));
      const all = (async () => {
        for (const service of [...this.started].reverse()) {
          try {
            await service.stop();
          } catch (err) {
            this.logger.error({ err, service: service.name }, 'failed to stop cleanly');
          }
        }
      })();
      if ((await Promise.race([all, late])) === 'late') this.logger.error(`not stopped within ${deadlineMs} ms: giving up on a clean stop`);
      clearTimeout(timer);
    })();
    return this.stopping;
  }

  /** Starts, then waits for SIGTERM/SIGINT and stops. */
  runUntilSignal(proc: NodeJS.Process): Promise<void> {
    return this.run(terminationSignal(proc), proc);
  }

  /** Starts, tells systemd, then waits until `stop` is aborted and stops (also when it is aborted while starting). */
  async run(stop: AbortSignal, proc: NodeJS.Process): Promise<void> {
    const stopped = new Promise<void>((resolve) => {
      if (stop.aborted) resolve();
      else stop.addEventListener('abort', () => resolve(), { once: true });
    });
    await this.start();
    const systemd = new SystemdNotifier(proc.env, proc.pid);
    systemd.notify('READY=1');
    // WatchdogSec in the unit: a blocked event loop stops the pings and systemd restarts the daemon.
    const watchdogMs = systemd.watchdogIntervalMs();
    const watchdog = watchdogMs === undefined ? undefined : setInterval(() => systemd.notify('WATCHDOG=1'), watchdogMs);
    await stopped;
    if (watchdog) clearInterval(watchdog);
    this.logger.info({ signal: String(stop.reason ?? 'stop') }, 'stopping');
    systemd.notify('STOPPING=1');
    await this.stop();
  }
}

/**
 * Aborted at the first SIGTERM or SIGINT (its reason is the signal's name). Registered before a daemon
 * connects to anything, so a stop while it waits for its broker ends the wait rather than the process.
 */
export function terminationSignal(proc: NodeJS.Process): AbortSignal {
  const controller = new AbortController();
  const onSignal = (signal: string): void => {
    proc.off('SIGTERM', onSignal);
    proc.off('SIGINT', onSignal);
    controller.abort(signal);
  };
  proc.once('SIGTERM', onSignal);
  proc.once('SIGINT', onSignal);
  return controller.signal;
}
