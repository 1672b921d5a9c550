import type { PluginCallControl } from '../plugin-support/plugin-executable';

/** What each config plugin call gets: the command's signal (agent stopping) and its log. */
export type CallControl = PluginCallControl;

/** JSON a step printed between `:::begin-tedge:::` and `:::end-tedge:::`, merged into the command. */
export type StepOutput = Record<string, unknown> | undefined;

/**
 * A config plugin as thin-edge defines them (`list`, `get`, `prepare`, `set`, `verify`, `rollback`): the
 * built-in `file` plugin over the toml entries, or an executable in configuration.plugin_paths. Every
 * method rejects with an Error whose message is the command's reason.
 */
export interface ConfigPlugin {
  readonly name: string;
  list(ctl: CallControl): Promise<string[]>;
  /** Writes the content of `type` to `dest`. */
  get(type: string, dest: string, ctl: CallControl): Promise<void>;
  prepare(type: string, newFile: string, workDir: string, ctl: CallControl): Promise<StepOutput>;
  set(type: string, newFile: string, workDir: string, ctl: CallControl): Promise<StepOutput>;
  verify(type: string, workDir: string, ctl: CallControl): Promise<StepOutput>;
  rollback(type: string, workDir: string, ctl: CallControl): Promise<StepOutput>;
  /** The file a type is, when the plugin knows (`path` of a successful command). */
  pathOf(type: string): string | undefined;
}
