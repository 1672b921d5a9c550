import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../../core/errors';
import type { FailureReport } from './failures';
import type { ModuleUpdate } from './modules';
import { type PluginSettings, type SmPlugin, callPlugin } from './plugins';
import { describeExit, moduleArgs, renderUpdateList, verdictOf } from './protocol';

/** The downloader (src/agent/transfer/download.ts): resumable, honours the signal. */
export type DownloadFn = (url: string, dest: string, opts: { signal: AbortSignal; log?: (l: string) => void }) => Promise<void>;

export interface ApplyDeps {
  readonly settings: PluginSettings;
  readonly signal: AbortSignal;
  readonly log: (line: string) => void;
  readonly download: DownloadFn;
}

/** thin-edge's sm_path: `<tmp>/<name>[_<version>]`, every byte outside [0-9A-Za-z._~-] percent-encoded. */
export function downloadPath(tmpDir: string, name: string, version: string | undefined): string {
  const raw = version === undefined ? name : `${name}_${version}`;
  const safe = [...Buffer.from(raw, 'utf8')].map((b) => (/[0-9A-Za-z._~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16)}`)).join('');
  return join(tmpDir, safe);
}

function verb(action: ModuleUpdate['action']): string {
  return action === 'install' ? 'install' : 'remove';
}

function label(m: ModuleUpdate): string {
  return m.version === undefined ? m.name : `${m.name} ${m.version}`;
}

/**
 * One plugin's share of a software_update, in thin-edge's order (plugin_sm `apply_all`): prepare (its
 * failure cancels the rest), download the URLs, update-list (exit 1: not supported, then install/remove
 * module by module), finalize (always, after a prepare that worked), remove the downloads.
 * Every failure goes to `report`, with the modules it concerns.
 */
export async function applyUpdates(plugin: SmPlugin, updates: readonly ModuleUpdate[], report: FailureReport, deps: ApplyDeps): Promise<void> {
  const { settings, signal, log } = deps;
  const call = (args: readonly string[], stdin?: string) => callPlugin(plugin, args, settings, signal, log, stdin);

  const prepared = await call(['prepare']);
  if (verdictOf(prepared.exit) !== 'success') {
    report.add(plugin.type, `Failed to prepare updates for ${plugin.type}: ${describeExit(prepared.exit, prepared.stderr)}`, updates);
    return;
  }

  const downloads: string[] = [];
  const planned: ModuleUpdate[] = [];
  let downloadFailed = false;
  for (const m of updates) {
    if (m.action !== 'install' || m.url === undefined || downloadFailed) {
      planned.push(m);
      continue;
    }
    const dest = downloadPath(settings.tmpDir, m.name, m.version);
    log(`----- $ Downloading: ${m.url} to ${dest}`);
    try {
      await deps.download(m.url, dest, { signal, log });
      downloads.push(dest);
      planned.push({ ...m, file: dest });
    } catch (err) {
      // As thin-edge: a failed download cancels this plugin's updates (a later install may depend on it).
      downloadFailed = true;
      report.add(plugin.type, `Failed to download ${m.url} for ${label(m)}: ${errorMessage(err)}`, [m]);
    }
  }

  if (!downloadFailed && !signal.aborted) {
    const listed = await call(['update-list'], renderUpdateList(planned));
    const verdict = verdictOf(listed.exit);
    if (verdict === 'usage') {
      log(`${plugin.type} does not support update-list: one call per module`);
      for (const m of planned) {
        if (signal.aborted) break;
        const r = await call(moduleArgs(m));
        if (verdictOf(r.exit) !== 'success') report.add(plugin.type, `Failed to ${verb(m.action)} ${label(m)}: ${describeExit(r.exit, r.stderr)}`, [m]);
      }
    } else if (verdict !== 'success') {
      // Which of the modules failed the plugin does not say: each is reported with the plugin's error.
      report.add(plugin.type, `Failed to execute updates for ${plugin.type}: ${describeExit(listed.exit, listed.stderr)}`, planned);
    }
  }

  const finalized = await call(['finalize']);
  if (verdictOf(finalized.exit) !== 'success') report.add(plugin.type, `Failed to finalize updates for ${plugin.type}: ${describeExit(finalized.exit, finalized.stderr)}`);

  for (const file of downloads) await rm(file, { force: true }).catch((err: unknown) => log(`warn: cannot remove ${file}: ${errorMessage(err)}`));
}
