import { spawn } from 'node:child_process';

/**
 * sd_notify without a native dependency: Node has no Unix datagram sockets, so the message is sent by
 * `systemd-notify --pid=<our pid>`. systemd takes it from another process only with `NotifyAccess=all`
 * in the unit; since systemd 246, systemd-notify waits until systemd has processed the message, so it
 * cannot be lost because the sender exited first.
 */
export class SystemdNotifier {
  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly pid: number,
    private readonly run: (command: string, args: string[], env: NodeJS.ProcessEnv) => void = spawnDetached,
  ) {}

  /** Not started by systemd with Type=notify: every call is a no-op. */
  get enabled(): boolean {
    return Boolean(this.env['NOTIFY_SOCKET']);
  }

  notify(...states: string[]): void {
    if (!this.enabled) return;
    this.run('systemd-notify', [`--pid=${this.pid}`, ...states], { NOTIFY_SOCKET: this.env['NOTIFY_SOCKET'], PATH: this.env['PATH'] ?? '/usr/bin:/bin' });
  }

  /**
   * How often to send WATCHDOG=1: half of WatchdogSec, as sd_watchdog_enabled(3) advises;
   * undefined when the unit has no watchdog or it is meant for another process (WATCHDOG_PID).
   */
  watchdogIntervalMs(): number | undefined {
    if (!this.enabled) return undefined;
    const usec = Number(this.env['WATCHDOG_USEC']);
    if (!Number.isFinite(usec) || usec <= 0) return undefined;
    const pid = this.env['WATCHDOG_PID'];
    if (pid !== undefined && pid !== '' && Number(pid) !== this.pid) return undefined;
    return Math.max(1, Math.floor(usec / 2000));
  }
}

function spawnDetached(command: string, args: string[], env: NodeJS.ProcessEnv): void {
  spawn(command, args, { stdio: 'ignore', env }).on('error', () => {});
}

/** The systemd variables a supervisor takes for itself, so the daemons it runs do not notify on their own. */
export const SYSTEMD_NOTIFY_VARIABLES = ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID'] as const;
