import { callPlugin, describeFailure, succeeded } from '../plugin-support/plugin-call';
import type { LogCallControl, LogPlugin, LogWindow } from './log-plugin';

export const LOG_PLUGIN_TIMEOUT_MS = 5 * 60_000;

/** `get <type> [--since <epoch>] [--until <epoch>]`, thin-edge's log plugin arguments. */
export function getArgs(type: string, window: LogWindow): string[] {
  const args = ['get', type];
  if (window.since !== undefined) args.push('--since', String(window.since));
  if (window.until !== undefined) args.push('--until', String(window.until));
  return args;
}

/** An executable of log.plugin_paths. */
export class ExternalLogPlugin implements LogPlugin {
  constructor(
    readonly name: string,
    private readonly path: string,
    private readonly sudo: boolean,
    private readonly timeoutMs = LOG_PLUGIN_TIMEOUT_MS,
  ) {}

  async list(ctl: LogCallControl): Promise<string[]> {
    const r = await callPlugin({ path: this.path, args: ['list'], sudo: this.sudo, timeoutMs: this.timeoutMs, signal: ctl.signal, ...(ctl.log ? { log: ctl.log } : {}) });
    if (!succeeded(r)) throw new Error(describeFailure(this.name, 'list', r));
    return [...new Set(r.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== ''))];
  }

  async get(type: string, window: LogWindow, dest: string, ctl: LogCallControl): Promise<void> {
    const r = await callPlugin({ path: this.path, args: getArgs(type, window), sudo: this.sudo, timeoutMs: this.timeoutMs, signal: ctl.signal, stdoutFile: dest, ...(ctl.log ? { log: ctl.log } : {}) });
    if (!succeeded(r)) throw new Error(describeFailure(this.name, 'get', r));
  }
}
