import { callPlugin, describeFailure, succeeded } from '../plugin-support/plugin-call';
import type { LogCallControl, LogPlugin, LogWindow } from './log-plugin';

/** The type that means every unit (thin-edge's journald plugin). */
export const ALL_UNITS = 'all-units';

/** Pure: `systemctl list-units --plain --no-legend` output to unit names without `.service`, plus all-units. */
export function parseUnits(stdout: string): string[] {
  const units = stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((u) => u.endsWith('.service'))
    .map((u) => u.slice(0, -'.service'.length));
  return [...new Set([...units, ALL_UNITS])];
}

/** Pure: the journalctl arguments of a request (thin-edge's defaults: since one day ago, until now). */
export function journalctlArgs(type: string, window: LogWindow): string[] {
  return [
    '--no-pager',
    '--output=short-iso',
    `--unit=${type === ALL_UNITS ? '*' : type}`,
    `--since=${window.since !== undefined ? `@${window.since}` : '1 day ago'}`,
    `--until=${window.until !== undefined ? `@${window.until}` : 'now'}`,
  ];
}

/**
 * The `journald` log plugin, built in (thin-edge ships it as a script): the services systemd knows, their
 * journal by journalctl. Offered only where systemd runs; a `journald` in log.plugin_paths wins.
 */
export class JournaldLogPlugin implements LogPlugin {
  readonly name = 'journald';

  constructor(
    private readonly programs: { readonly journalctl: string; readonly systemctl: string | undefined },
    private readonly sudo: boolean,
    private readonly timeoutMs = 5 * 60_000,
  ) {}

  async list(ctl: LogCallControl): Promise<string[]> {
    if (this.programs.systemctl === undefined) return [ALL_UNITS];
    const r = await callPlugin({
      path: this.programs.systemctl,
      args: ['list-units', '--type=service', '--no-legend', '--no-pager', '--plain'],
      sudo: false,
      timeoutMs: this.timeoutMs,
      signal: ctl.signal,
    });
    if (!succeeded(r)) throw new Error(describeFailure('journald', 'list', r));
    return parseUnits(r.stdout);
  }

  async get(type: string, window: LogWindow, dest: string, ctl: LogCallControl): Promise<void> {
    const r = await callPlugin({
      path: this.programs.journalctl,
      args: journalctlArgs(type, window),
      sudo: this.sudo,
      timeoutMs: this.timeoutMs,
      signal: ctl.signal,
      stdoutFile: dest,
      ...(ctl.log ? { log: ctl.log } : {}),
    });
    if (!succeeded(r)) throw new Error(describeFailure('journald', 'get', r));
  }
}
