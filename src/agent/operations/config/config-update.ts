import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../../core/errors';
import type { JsonObject } from '../../../core/json';
import { clientTls } from '../../transfer/client-tls';
import { downloadFile } from '../../transfer/download';
import type { CommandRun, Outcome, StepResult } from '../operation';
import { CONFIG_UPDATE_STEPS, runConfigStep } from './config-steps';
import type { CallControl, ConfigPlugin, StepOutput } from './config-plugin';
import { ConfigHandlerBase, commandType, safeName, unknownType } from './config-handler-base';
import { configSettings } from './config-plugins';

/**
 * config_update, thin-edge's builtin chain: download `tedgeUrl` (else `remoteUrl`) to a work dir under
 * tmp.path, then the plugin's `prepare`, `set`, `verify`; a failing `set` or `verify` is undone by
 * `rollback` and the command fails. The file written is always the one the toml declares for the type:
 * nothing in the payload names a path. The work dir is named after the command, so after an agent restart
 * the download resumes where it was.
 */
export class ConfigUpdateHandler extends ConfigHandlerBase {
  readonly operation = 'config_update';
  readonly steps = CONFIG_UPDATE_STEPS;

  /** thin-edge's config_update.toml steps (config-steps.ts); a resumed step runs again, as the whole operation does. */
  runStep(step: string, run: CommandRun): Promise<StepResult> {
    return runConfigStep(this.plugins, this.operation, step, run);
  }

  async execute(run: CommandRun): Promise<Outcome> {
    const ctx = run.context;
    const type = commandType(run.payload, this.operation);
    if (typeof type !== 'string') return { status: 'failed', ...type };
    const url = run.payload['tedgeUrl'] ?? run.payload['remoteUrl'];
    if (typeof url !== 'string' || url === '') return { status: 'failed', reason: "config_update needs a 'tedgeUrl' or 'remoteUrl' to download the new configuration from" };
    const resolved = this.plugins.resolve(ctx, type);
    if (resolved === undefined || (resolved.plugin.name === 'file' && resolved.plugin.pathOf(resolved.type) === undefined)) return unknownType(this.plugins, ctx, type);
    const { plugin } = resolved;

    const workDir = join(configSettings(ctx).tmpDir, `config_update-${safeName(type)}-${safeName(run.cmdId)}`);
    const newFile = join(workDir, 'new');
    const ctl: CallControl = { signal: run.signal, log: (l: string) => run.log(l) };
    const outputs: JsonObject = {};
    const merge = (o: StepOutput): void => {
      for (const [k, v] of Object.entries(o ?? {})) if (k !== 'status') outputs[k] = v as JsonObject[string];
    };
    try {
      await mkdir(workDir, { recursive: true });
      const tls = clientTls(ctx.config);
      await downloadFile(url, newFile, { ...ctl, ...(tls ? { tls } : {}) });
      merge(await plugin.prepare(resolved.type, newFile, workDir, ctl));
    } catch (e) {
      return this.end(run, workDir, { status: 'failed', reason: `config_update of '${type}' failed: ${errorMessage(e)}` });
    }
    for (const step of ['set', 'verify'] as const) {
      try {
        merge(step === 'set' ? await plugin.set(resolved.type, newFile, workDir, ctl) : await plugin.verify(resolved.type, workDir, ctl));
      } catch (e) {
        const reason = `config_update of '${type}' failed at ${step}: ${errorMessage(e)}`;
        return this.end(run, workDir, { status: 'failed', reason: await rollback(plugin, resolved.type, workDir, ctl, reason) });
      }
    }
    const path = plugin.pathOf(resolved.type);
    // What the plugins list may depend on the file just written (thin-edge re-lists after an update too).
    this.plugins.changed();
    return this.end(run, workDir, { status: 'successful', payload: { ...outputs, ...(path !== undefined ? { path } : {}) } });
  }

  /** The work dir goes with the command, unless the agent is stopping (then the command resumes). */
  private async end(run: CommandRun, workDir: string, outcome: Outcome): Promise<Outcome> {
    if (!run.signal.aborted) await rm(workDir, { recursive: true, force: true });
    return outcome;
  }
}

async function rollback(plugin: ConfigPlugin, type: string, workDir: string, ctl: CallControl, reason: string): Promise<string> {
  try {
    await plugin.rollback(type, workDir, ctl);
    return `${reason} (rolled back)`;
  } catch (e) {
    return `${reason}; rollback failed too: ${errorMessage(e)}`;
  }
}
