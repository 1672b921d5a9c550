import type { PluginCallControl } from '../plugin-support/plugin-executable';

/** What each log plugin call gets: the command's signal and its log. */
export type LogCallControl = PluginCallControl;

/** The time window of a request, epoch seconds; absent: unbounded. */
export interface LogWindow {
  readonly since?: number;
  readonly until?: number;
}

/**
 * A log plugin as thin-edge defines them: `list` the types, `get <type> [--since s] [--until u]` the
 * content. The agent applies `searchText` and `lines` to what `get` returns. Methods reject with an Error
 * whose message is the command's reason.
 */
export interface LogPlugin {
  readonly name: string;
  list(ctl: LogCallControl): Promise<string[]>;
  get(type: string, window: LogWindow, dest: string, ctl: LogCallControl): Promise<void>;
}
