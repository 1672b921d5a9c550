import { PluginExecutable, listedLines } from '../plugin-support/plugin-executable';
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
export class ExternalLogPlugin extends PluginExecutable implements LogPlugin {
  constructor(name: string, path: string, sudo: boolean, timeoutMs = LOG_PLUGIN_TIMEOUT_MS) {
    super(name, path, sudo, timeoutMs);
  }

  async list(ctl: LogCallControl): Promise<string[]> {
    return [...new Set(listedLines((await this.call(['list'], ctl)).stdout))];
  }

  async get(type: string, window: LogWindow, dest: string, ctl: LogCallControl): Promise<void> {
    await this.call(getArgs(type, window), ctl, dest);
  }
}
