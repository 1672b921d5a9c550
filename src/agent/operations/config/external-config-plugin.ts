import { callPlugin, describeFailure, scriptOutput, succeeded } from '../plugin-support/plugin-call';
import type { CallControl, ConfigPlugin, StepOutput } from './config-plugin';

/** A plugin call that hangs is killed after this long (thin-edge has no key for it). */
export const CONFIG_PLUGIN_TIMEOUT_MS = 5 * 60_000;

/** An executable of configuration.plugin_paths, called with thin-edge's arguments. */
export class ExternalConfigPlugin implements ConfigPlugin {
  constructor(
    readonly name: string,
    private readonly path: string,
    private readonly sudo: boolean,
    private readonly timeoutMs = CONFIG_PLUGIN_TIMEOUT_MS,
  ) {}

  async list(ctl: CallControl): Promise<string[]> {
    const r = await this.call(['list'], ctl);
    return r.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
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

  private async call(args: string[], ctl: CallControl, stdoutFile?: string): Promise<{ stdout: string }> {
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
