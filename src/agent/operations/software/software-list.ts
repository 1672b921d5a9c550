import type { JsonObject } from '../../../core/json';
import type { CommandRun, HandlerContext, OperationHandler, Outcome } from '../operation';
import { listModules, pluginFiles, pluginSettings } from './plugins';
import { SoftwareSerial } from './serial';

/**
 * software_list: every plugin's `list`, by type in name order → `currentSoftwareList`. A plugin that
 * fails is left out and named in the reason (the command fails, the other types still listed).
 */
export class SoftwareListHandler implements OperationHandler {
  readonly operation = 'software_list';

  constructor(private readonly serial = new SoftwareSerial()) {}

  capability(_ctx: HandlerContext): Promise<JsonObject> {
    return Promise.resolve({});
  }

  execute(run: CommandRun): Promise<Outcome> {
    return this.serial.run(() => this.list(run), () => run.log('waiting for the software operation in progress'));
  }

  private async list(run: CommandRun): Promise<Outcome> {
    const settings = pluginSettings(run.context);
    const current: JsonObject[] = [];
    const errors: string[] = [];
    for (const plugin of pluginFiles(settings.dir)) {
      if (run.signal.aborted) break;
      const listed = await listModules(plugin, settings, run.signal, (l) => run.log(l));
      if (listed.ok) current.push({ type: plugin.type, modules: listed.modules.map((m) => ({ ...m })) });
      else errors.push(listed.error);
    }
    const payload: JsonObject = { currentSoftwareList: current };
    if (errors.length === 0) return { status: 'successful', payload };
    const reason = errors.length === 1 ? (errors[0] ?? '') : `${errors.length} errors: ${errors.join('; ')}`;
    return { status: 'failed', reason, payload };
  }

  /** Listing has no effect on the device: after an agent restart it is simply run again. */
  resume(run: CommandRun): Promise<Outcome> {
    return this.execute(run);
  }
}
