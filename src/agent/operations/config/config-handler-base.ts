import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorMessage } from '../../../core/errors';
import type { JsonObject } from '../../../core/json';
import type { CommandRun, HandlerContext, OperationHandler, Outcome } from '../operation';
import { PathsWatch } from '../../../runtime/paths-watch';
import { type ConfigPlugins, configSettings } from './config-plugins';
import { defaultConfigToml } from './config-toml';

/**
 * What config_snapshot and config_update share: the capability `{"types":[…]}` from the shared plugins,
 * republished when the toml or a plugin directory changes, and `agent.enable.<op>` to switch it off.
 */
export abstract class ConfigHandlerBase implements OperationHandler {
  abstract readonly operation: 'config_snapshot' | 'config_update';
  private watch: PathsWatch | undefined;
  private unlisten: (() => void) | undefined;

  constructor(protected readonly plugins: ConfigPlugins) {}

  async capability(ctx: HandlerContext): Promise<JsonObject | undefined> {
    if (!ctx.config.boolean(`agent.enable.${this.operation}`)) return undefined;
    return { types: await this.plugins.types(ctx) };
  }

  /** Creates the toml with the agent's own files when there is none (as thin-edge), then watches it. */
  async start(ctx: HandlerContext): Promise<void> {
    const toml = configSettings(ctx).tomlPath;
    try {
      await mkdir(dirname(toml), { recursive: true });
      // 'wx': both config handlers start; the first one writes it, and a user's file is never replaced.
      await writeFile(toml, defaultConfigToml(ctx.configDir), { flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') ctx.reportError(`cannot create ${toml}: ${errorMessage(e)}`);
    }
    this.unlisten = this.plugins.onChange(() => ctx.capabilityChanged());
    this.watch = new PathsWatch(this.plugins.watchedPaths(ctx), () => ctx.capabilityChanged());
    this.watch.start();
  }

  stop(): Promise<void> {
    this.watch?.stop();
    this.unlisten?.();
    return Promise.resolve();
  }

  abstract execute(run: CommandRun): Promise<Outcome>;

  /** Reading or writing a file again is harmless: after an agent restart the command is run again. */
  resume(run: CommandRun): Promise<Outcome> {
    run.log('the agent restarted during this command: running it again');
    return this.execute(run);
  }
}

/** The `type` of a command payload, or why it is unusable. */
export function commandType(payload: JsonObject, operation: string): string | { readonly reason: string } {
  const type = payload['type'];
  if (typeof type !== 'string' || type === '') return { reason: `${operation} needs a 'type' (a non-empty string)` };
  return type;
}

/** A type as a file name part: no separators, nothing a shell or a URL would mind. */
export function safeName(type: string): string {
  return type.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Unknown type: the reason names what is supported, so the cloud user can pick. */
export async function unknownType(plugins: ConfigPlugins, ctx: HandlerContext, type: string): Promise<Outcome> {
  const types = await plugins.types(ctx);
  return { status: 'failed', reason: `unknown configuration type '${type}' (supported: ${types.join(', ')}; declared in ${configSettings(ctx).tomlPath} or by a plugin in configuration.plugin_paths)` };
}
