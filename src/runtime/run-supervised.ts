import type { EventEmitter } from 'node:events';
import type { Timers } from '../core/clock';
import { errorMessage } from '../core/errors';
import type { Logger } from '../log/logger';
import type { SystemdNotifier } from './sd-notify';
import type { Supervisor } from './supervisor';

/** The part of `process` the supervisor owns: signals and escaped errors. An EventEmitter in tests. */
export type SupervisedProcess = Pick<EventEmitter, 'on' | 'off'>;

export const EXIT_FORCED = 1;
export const EXIT_FATAL = 1;

export interface RunSupervisedOptions {
  readonly proc: SupervisedProcess;
  readonly supervisor: Supervisor;
  readonly systemd: SystemdNotifier;
  readonly timers: Timers;
  readonly logger: Logger;
  /** After this long draining, the remaining components are abandoned and the process ends. */
  readonly shutdownTimeoutMs?: number;
  /** Once every component has started (after READY=1). */
  readonly onStarted?: () => void;
}

const TERMINATION = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;

/**
 * Owns the process for a supervisor: starts it, tells systemd (READY, WATCHDOG, STOPPING), and resolves
 * with the exit code once it has drained:
 * - SIGTERM / SIGINT / SIGQUIT: drain every component, 0 (1 if one had to be abandoned); a second signal or
 *   the shutdown timeout: 1 at once;
 * - a component requires a restart of the process: drain, EXIT_RESTART_REQUIRED (non-zero, for systemd to restart us);
 * - SIGUSR1: restart the mappers (only them);
 * - SIGHUP: every component reads its log level from system.toml again (so does the supervisor);
 * - an error escaping to the process: the component that raised it is restarted; one no component owns is fatal (1).
 * The watchdog is fed while no component has been given up on, so systemd restarts the process when one has.
 */
export function runSupervised(opts: RunSupervisedOptions): Promise<number> {
  const { proc, supervisor, systemd, timers, logger } = opts;
  const shutdownTimeoutMs = opts.shutdownTimeoutMs ?? 8_000;
  return new Promise<number>((resolve) => {
    let draining = false;
    let done = false;
    let cancelWatchdog: (() => void) | undefined;
    let cancelShutdownTimer: (() => void) | undefined;

    const finish = (code: number): void => {
      if (done) return;
      done = true;
      cancelWatchdog?.();
      cancelShutdownTimer?.();
      for (const signal of TERMINATION) proc.off(signal, onTerminate);
      proc.off('SIGUSR1', onRestartMappers);
      proc.off('SIGHUP', onHangup);
      proc.off('uncaughtException', onUncaught);
      proc.off('unhandledRejection', onUncaught);
      resolve(code);
    };

    const drain = (code: number, why: string): void => {
      if (draining) return;
      draining = true;
      logger.info({ reason: why }, 'stopping all components');
      systemd.notify('STOPPING=1');
      cancelShutdownTimer = timers.after(shutdownTimeoutMs, () => {
        logger.error(`components still running after ${shutdownTimeoutMs} ms: exiting anyway`);
        finish(EXIT_FORCED);
      });
      void supervisor.stop().then(({ abandoned }) => {
        // A component left running may not have finished its work: not a clean stop, whatever the cause.
        if (abandoned.length > 0) logger.error({ abandoned }, 'components abandoned while stopping');
        finish(abandoned.length > 0 && code === 0 ? EXIT_FORCED : code);
      });
    };

    const onTerminate = (signal: string): void => {
      if (!draining) drain(0, signal);
      else {
        logger.warn({ signal }, 'second termination signal: exiting now');
        finish(EXIT_FORCED);
      }
    };
    const onRestartMappers = (): void => supervisor.restartAll('mapper');
    const onHangup = (): void => supervisor.signalAll('SIGHUP');
    const onUncaught = (error: unknown): void => {
      if (supervisor.handleUncaught(error)) return;
      logger.fatal({ err: error }, `error outside any component: ${errorMessage(error)}`);
      drain(EXIT_FATAL, 'fatal error');
    };

    for (const signal of TERMINATION) proc.on(signal, onTerminate);
    proc.on('SIGUSR1', onRestartMappers);
    proc.on('SIGHUP', onHangup);
    proc.on('uncaughtException', onUncaught);
    proc.on('unhandledRejection', onUncaught);

    void supervisor.exit.then((exit) => drain(exit.code, exit.reason));
    void supervisor.start().then(() => {
      if (draining) return;
      systemd.notify('READY=1');
      opts.onStarted?.();
      const every = systemd.watchdogIntervalMs();
      if (every === undefined) return;
      const feed = (): void => {
        if (draining) return;
        if (!supervisor.status().some((s) => s.state === 'given-up')) systemd.notify('WATCHDOG=1');
        cancelWatchdog = timers.after(every, feed);
      };
      // Not at once: two systemd-notify children started together may deliver WATCHDOG=1 before READY=1.
      cancelWatchdog = timers.after(every, feed);
    });
  });
}
