import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../../core/errors';
import { uploadFile } from '../../transfer/upload';
import type { CommandRun, Outcome, StepResult } from '../operation';
import { CONFIG_SNAPSHOT_STEPS, runConfigStep } from './config-steps';
import { defaultTedgeUrl } from '../plugin-support/command-url';
import { clientTls } from '../../transfer/client-tls';
import { ConfigHandlerBase, commandType, safeName, unknownType } from './config-handler-base';
import { configSettings } from './config-plugins';

/**
 * config_snapshot: the plugin's `get` of the type into a temp file, PUT to `tedgeUrl` (filled in with the
 * agent's file transfer URL when the request has none). Successful adds `path` for a file type.
 */
export class ConfigSnapshotHandler extends ConfigHandlerBase {
  readonly operation = 'config_snapshot';
  readonly steps = CONFIG_SNAPSHOT_STEPS;

  /** thin-edge's config_snapshot.toml `get` step (config-steps.ts), followed there by the `upload` action. */
  runStep(step: string, run: CommandRun): Promise<StepResult> {
    return runConfigStep(this.plugins, this.operation, step, run);
  }

  async execute(run: CommandRun): Promise<Outcome> {
    const ctx = run.context;
    const type = commandType(run.payload, this.operation);
    if (typeof type !== 'string') return { status: 'failed', ...type };
    const resolved = this.plugins.resolve(ctx, type);
    if (resolved === undefined || (resolved.plugin.name === 'file' && resolved.plugin.pathOf(resolved.type) === undefined)) return unknownType(this.plugins, ctx, type);

    const given = run.payload['tedgeUrl'];
    if (given !== undefined && typeof given !== 'string') return { status: 'failed', reason: "'tedgeUrl' must be a URL string" };
    const tedgeUrl =
      given ??
      defaultTedgeUrl(ctx, run, this.operation, type);
    if (tedgeUrl === undefined) return { status: 'failed', reason: `cannot build a tedgeUrl for ${run.entity}: give one in the request` };
    if (given === undefined) await run.checkpoint({ tedgeUrl });

    const tmp = join(configSettings(ctx).tmpDir, `config_snapshot-${safeName(type)}-${safeName(run.cmdId)}`);
    const ctl = { signal: run.signal, log: (l: string) => run.log(l) };
    try {
      await resolved.plugin.get(resolved.type, tmp, ctl);
      const tls = clientTls(ctx.config);
      await uploadFile(tedgeUrl, tmp, { ...ctl, ...(tls ? { tls } : {}) });
    } catch (e) {
      return { status: 'failed', reason: `config_snapshot of '${type}' failed: ${errorMessage(e)}`, payload: { tedgeUrl } };
    } finally {
      await rm(tmp, { force: true });
    }
    const path = resolved.plugin.pathOf(resolved.type);
    return { status: 'successful', payload: { tedgeUrl, ...(path !== undefined ? { path } : {}) } };
  }
}
