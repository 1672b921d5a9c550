import { copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errorMessage } from '../../../core/errors';
import type { ServiceManager } from '../../../connect/system-services';
import { type DeployOptions, deployFile } from '../../tedge-write/privileged-write';
import type { ElevatedGet } from '../plugin-support/elevated-get';
import type { CallControl, ConfigPlugin, StepOutput } from './config-plugin';
import type { ConfigFileEntry } from './config-toml';

/** Names of the files `prepare` leaves in the work dir, for `rollback`. */
const BACKUP = 'backup';
const ABSENT = 'was-absent';

export interface FilePluginOptions {
  readonly deploy: Omit<DeployOptions, 'log'>;
  /** system.toml's service commands, read when a service must be restarted or checked. */
  readonly services: () => ServiceManager;
  /** With sudo: `sudo tedge file-config-plugin get <type>` for a file the agent may not read. */
  readonly elevatedGet?: ElevatedGet;
}

/**
 * The built-in `file` config plugin (thin-edge's tedge-file-config-plugin, run in-process): the entries of
 * tedge-configuration-plugin.toml. `set` replaces the declared file atomically (through tedge-write when the
 * agent may not write it) and restarts its service; `verify` checks the service runs; `rollback` puts back
 * what `prepare` saved. A type not in the toml is refused: a command cannot name a path of its own.
 */
export class FileConfigPlugin implements ConfigPlugin {
  readonly name = 'file';

  constructor(
    private readonly entries: readonly ConfigFileEntry[],
    private readonly opts: FilePluginOptions,
  ) {}

  list(): Promise<string[]> {
    return Promise.resolve(this.entries.map((e) => e.type));
  }

  pathOf(type: string): string | undefined {
    return this.entries.find((e) => e.type === type)?.path;
  }

  async get(type: string, dest: string, ctl: CallControl): Promise<void> {
    const entry = this.entry(type);
    try {
      await copyFile(entry.path, dest);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // A file the agent's user may not read: the same plugin through sudo (thin-edge runs it so).
      if ((code === 'EACCES' || code === 'EPERM') && this.opts.elevatedGet !== undefined) {
        ctl.log?.(`cannot read ${entry.path} (${code}): reading it through sudo`);
        return this.opts.elevatedGet([type], dest, ctl);
      }
      throw new Error(`cannot read ${entry.path} (type ${type}): ${errorMessage(e)}`, { cause: e });
    }
  }

  /** Saves the current file (once: a resumed command keeps the first backup) for rollback. */
  async prepare(type: string, _newFile: string, workDir: string): Promise<StepOutput> {
    const entry = this.entry(type);
    if (await exists(join(workDir, BACKUP)) || await exists(join(workDir, ABSENT))) return undefined;
    try {
      await copyFile(entry.path, join(workDir, BACKUP));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot back up ${entry.path}: ${errorMessage(e)}`, { cause: e });
      await writeFile(join(workDir, ABSENT), '');
    }
    return undefined;
  }

  async set(type: string, newFile: string, _workDir: string, ctl: CallControl): Promise<StepOutput> {
    const entry = this.entry(type);
    await this.put(entry, newFile, ctl);
    await this.restart(entry, ctl);
    return undefined;
  }

  async verify(type: string, _workDir: string, ctl: CallControl): Promise<StepOutput> {
    const entry = this.entry(type);
    if (entry.service === undefined || entry.service === 'tedge-agent') return undefined;
    if (!(await this.opts.services().isActive(entry.service))) throw new Error(`service ${entry.service} is not running after the update of ${entry.path}`);
    ctl.log?.(`service ${entry.service} is running`);
    return undefined;
  }

  async rollback(type: string, workDir: string, ctl: CallControl): Promise<StepOutput> {
    const entry = this.entry(type);
    if (await exists(join(workDir, BACKUP))) {
      await this.put(entry, join(workDir, BACKUP), ctl);
      ctl.log?.(`restored the previous ${entry.path}`);
    } else if (await exists(join(workDir, ABSENT))) {
      await rm(entry.path, { force: true });
      ctl.log?.(`removed ${entry.path}, which did not exist before`);
    }
    await this.restart(entry, ctl);
    return undefined;
  }

  private async put(entry: ConfigFileEntry, from: string, ctl: CallControl): Promise<void> {
    await mkdir(dirname(entry.path), { recursive: true, ...(entry.parentMode !== undefined ? { mode: entry.parentMode } : {}) }).catch(() => undefined);
    const own = {
      ...(entry.mode !== undefined ? { mode: entry.mode } : {}),
      ...(entry.user !== undefined ? { user: entry.user } : {}),
      ...(entry.group !== undefined ? { group: entry.group } : {}),
    };
    const how = await deployFile(from, entry.path, own, { ...this.opts.deploy, ...(ctl.log ? { log: ctl.log } : {}) });
    ctl.log?.(`wrote ${entry.path}${how === 'tedge-write' ? ' through tedge-write' : ''}`);
  }

  private async restart(entry: ConfigFileEntry, ctl: CallControl): Promise<void> {
    // The agent restarting itself mid-command is the workflow engine's business (restartAgent); not done here.
    if (entry.service === undefined || entry.service === 'tedge-agent') return;
    ctl.log?.(`restarting service ${entry.service}`);
    await this.opts.services().run('restart', entry.service);
  }

  private entry(type: string): ConfigFileEntry {
    const entry = this.entries.find((e) => e.type === type);
    if (entry === undefined) throw new Error(`unknown configuration type '${type}'`);
    return entry;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
