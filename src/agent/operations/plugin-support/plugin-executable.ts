import { type CallResult, callPlugin, describeFailure, succeeded } from './plugin-call';

/** What each call of a config or log plugin gets: the command's signal (agent stopping) and its log. */
export interface PluginCallControl {
  readonly signal: AbortSignal;
  readonly log?: (line: string) => void;
}

/**
 * An executable of configuration.plugin_paths or log.plugin_paths: what the external config and log
 * plugins share. Each call runs it with thin-edge's argv (first the action: `list`, `get`, `prepare`, …)
 * and rejects, for the command's reason, unless it exits 0.
 */
export abstract class PluginExecutable {
  constructor(
    readonly name: string,
    private readonly path: string,
    private readonly sudo: boolean,
    private readonly timeoutMs: number,
  ) {}

  /** `stdoutFile`: the plugin's output goes there byte for byte (a `get`), not into the result. */
  protected async call(args: readonly string[], ctl: PluginCallControl, stdoutFile?: string): Promise<CallResult> {
    const r = await callPlugin({
      path: this.path,
      args,
      sudo: this.sudo,
      timeoutMs: this.timeoutMs,
      signal: ctl.signal,
      ...(stdoutFile !== undefined ? { stdoutFile } : {}),
      ...(ctl.log ? { log: ctl.log } : {}),
    });
    if (!succeeded(r)) throw new Error(describeFailure(this.name, args[0] ?? '', r));
    return r;
  }
}

/** The non-empty lines of a plugin's `list`, trimmed. */
export function listedLines(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}
