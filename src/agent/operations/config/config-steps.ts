import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../../core/errors';
import type { JsonObject, JsonValue } from '../../../core/json';
import type { CommandRun, StepResult } from '../operation';
import type { CallControl, ConfigPlugin, StepOutput } from './config-plugin';
import { commandType, safeName } from './config-handler-base';
import { type ConfigPlugins, configSettings } from './config-plugins';

/**
 * thin-edge's builtin steps of the config operations, for workflows that run them one by one
 * (`action = "builtin:config_update:<step>"`, thin-edge's shipped config_update.toml and config_snapshot.toml):
 * config_update `prepare` (`setFrom` → the plugin's prepare, `workDir` added), `set`, `verify` and `rollback`
 * (both remove the work dir); config_snapshot `get` (the type into a temp file: `path`, for the `upload` action).
 */
export const CONFIG_UPDATE_STEPS = ['prepare', 'set', 'verify', 'rollback'] as const;
export const CONFIG_SNAPSHOT_STEPS = ['get'] as const;

export async function runConfigStep(plugins: ConfigPlugins, operation: 'config_update' | 'config_snapshot', step: string, run: CommandRun): Promise<StepResult> {
  const ctx = run.context;
  const type = commandType(run.payload, operation);
  if (typeof type !== 'string') return { ok: false, reason: type.reason };
  const resolved = plugins.resolve(ctx, type);
  if (resolved === undefined || (resolved.plugin.name === 'file' && resolved.plugin.pathOf(resolved.type) === undefined)) {
    return { ok: false, reason: `unknown configuration type '${type}'` };
  }
  const { plugin } = resolved;
  const ctl: CallControl = { signal: run.signal, log: (l) => run.log(l) };
  const text = (key: string): string | undefined => (typeof run.payload[key] === 'string' && run.payload[key] !== '' ? run.payload[key] : undefined);
  try {
    switch (`${operation}:${step}`) {
      case 'config_snapshot:get': {
        const dest = join(configSettings(ctx).tmpDir, `config_snapshot-${safeName(type)}-${safeName(run.cmdId)}`);
        await plugin.get(resolved.type, dest, ctl);
        return { ok: true, json: { path: dest } };
      }
      case 'config_update:prepare': {
        const from = text('setFrom');
        if (from === undefined) return { ok: false, reason: "no 'setFrom': the file to apply (input.setFrom)" };
        const workDir = join(configSettings(ctx).tmpDir, `config_update-${safeName(type)}-${safeName(run.cmdId)}`);
        await mkdir(workDir, { recursive: true });
        return { ok: true, json: { ...output(await plugin.prepare(resolved.type, from, workDir, ctl)), workDir } };
      }
      case 'config_update:set': {
        const from = text('setFrom');
        const workDir = text('workDir');
        if (from === undefined || workDir === undefined) return { ok: false, reason: "no 'setFrom' or 'workDir' (run the prepare step first)" };
        if (!existsSync(from)) return { ok: false, reason: `file not found: ${from}` };
        const out = output(await plugin.set(resolved.type, from, workDir, ctl));
        // What the plugins list may depend on the file just written.
        plugins.changed();
        return { ok: true, json: { ...out, ...pathOf(plugin, resolved.type) } };
      }
      case 'config_update:verify':
      case 'config_update:rollback': {
        const workDir = text('workDir');
        if (workDir === undefined) return { ok: false, reason: "no 'workDir' (run the prepare step first)" };
        const out = step === 'verify' ? await plugin.verify(resolved.type, workDir, ctl) : await plugin.rollback(resolved.type, workDir, ctl);
        await rm(workDir, { recursive: true, force: true });
        return { ok: true, json: output(out) };
      }
      default:
        return { ok: false, reason: `no ${operation} step '${step}'` };
    }
  } catch (e) {
    return { ok: false, reason: `${operation} of '${type}' failed at ${step}: ${errorMessage(e)}` };
  }
}

/** A plugin's JSON output, without the `status` only the workflow decides. */
function output(o: StepOutput): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(o ?? {})) if (k !== 'status') out[k] = v as JsonValue;
  return out;
}

function pathOf(plugin: ConfigPlugin, type: string): JsonObject {
  const path = plugin.pathOf(type);
  return path === undefined ? {} : { path };
}
