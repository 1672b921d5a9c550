import { scriptOutput } from '../plugin-support/plugin-call';
import { PluginExecutable, listedLines } from '../plugin-support/plugin-executable';
import type { CallControl, ConfigPlugin, StepOutput } from './config-plugin';

/** A plugin call that hangs is killed after this long (thin-edge has no key for it). */
export const CONFIG_PLUGIN_TIMEOUT_MS = 5 * 60_000;

/** An executable of configuration.plugin_paths, called with thin-edge's arguments. */
export class ExternalConfigPlugin extends PluginExecutable implements ConfigPlugin {
  constructor(name: string, path: string, sudo: boolean, timeoutMs = CONFIG_PLUGIN_TIMEOUT_MS) {
    super(name, path, sudo, timeoutMs);
  }

  async list(ctl: CallControl): Promise<string[]> {
    return listedLines((await this.call(['list'], ctl)).stdout);
  }

  async get(type: string, dest: string, ctl: CallControl): Promise<void> {
    await this.call(['get', type], ctl, dest);
  }

  prepare(type: string, newFile: string, workDir: string, ctl: CallControl): Promise<StepOutput> {
    return this.step(['prepare', type, newFile, '--work-dir', workDir], ctl);
  }

  set(type: string, newFile: string, workDir: string, ctl: CallControl): Promise<StepOutput> {
    return this.step(['set', type, newFile, '--work-dir', workDir], ctl);
  }

  verify(type: string, workDir: string, ctl: CallControl): Promise<StepOutput> {
    return this.step(['verify', type, '--work-dir', workDir], ctl);
  }

  rollback(type: string, workDir: string, ctl: CallControl): Promise<StepOutput> {
    return this.step(['rollback', type, '--work-dir', workDir], ctl);
  }

  pathOf(): undefined {
    return undefined;
  }

  private async step(args: string[], ctl: CallControl): Promise<StepOutput> {
    return scriptOutput((await this.call(args, ctl)).stdout);
  }
}
