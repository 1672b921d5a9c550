import { chmodSync, chownSync, existsSync, lchownSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { TedgeError, errorMessage } from '../core/errors';
import { parseToml } from '../config/toml';
import type { CommandContext } from './context';
import { COMPONENTS, SUBCOMMAND_LINKS } from './invocation';

/** The directories of the config dir that thin-edge's `tedge init` creates, group-writable, owned by the tedge user. */
export const CONFIG_SUBDIRS = ['mosquitto-conf', 'operations', 'operations/c8y', 'plugins', 'sm-plugins', 'device-certs', 'mappers', '.tedge-mapper-c8y'] as const;

/** The links to the multi-call executable beside it (`tedge-agent -> tedge`). */
export const LINKED_PROGRAMS: readonly string[] = [...COMPONENTS, ...Object.keys(SUBCOMMAND_LINKS)];

export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

/** `name:x:uid:gid:...` lines of /etc/passwd and /etc/group; also a number given as such. */
export function lookupId(file: string, name: string, what: 'user' | 'group'): number {
  if (/^\d+$/.test(name)) return Number(name);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TedgeError('IO', `cannot read ${file}: ${errorMessage(err)}`, { cause: err });
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields[2] !== undefined && /^\d+$/.test(fields[2])) return Number(fields[2]);
  }
  throw new TedgeError('CONFIG_INVALID_VALUE', `unknown ${what} '${name}' (not in ${file}): create it, or pass --${what}`);
}

/** `--user`/`--group`, else `user`/`group` of system.toml, else `tedge`, as thin-edge. */
function systemTomlOwner(configDir: string): { user?: string; group?: string } {
  const path = join(configDir, 'system.toml');
  if (!existsSync(path)) return {};
  const table = parseToml(readFileSync(path, 'utf8'), path);
  return {
    ...(typeof table['user'] === 'string' ? { user: table['user'] } : {}),
    ...(typeof table['group'] === 'string' ? { group: table['group'] } : {}),
  };
}

/** Creates `dir` (and what is missing above it) and gives it the owner and mode, also when it existed. */
function ensureDir(dir: string, owner: Owner, mode: number, out: (s: string) => void): void {
  const existed = existsSync(dir);
  mkdirSync(dir, { recursive: true });
  chownSync(dir, owner.uid, owner.gid);
  chmodSync(dir, mode);
  out(`${existed ? 'checked' : 'created'} ${dir}\n`);
}

/**
 * Links named after each component in the executable's directory, pointing at it (thin-edge: absolute,
 * or relative with --relative-links). A link already pointing there is left alone; another one replaced.
 */
export function createComponentLinks(executable: string, names: readonly string[], relative: boolean, owner: Owner | undefined, out: (s: string) => void): void {
  const target = relative ? basename(executable) : executable;
  for (const name of names) {
    const link = join(dirname(executable), name);
    const stat = lstatSync(link, { throwIfNoEntry: false });
    if (stat?.isSymbolicLink() === true && readlinkSync(link) === target) continue;
    if (stat !== undefined) {
      if (!stat.isSymbolicLink()) {
        out(`left ${link} alone: not a link\n`);
        continue;
      }
      unlinkSync(link);
    }
    symlinkSync(target, link);
    if (owner !== undefined) lchownSync(link, owner.uid, owner.gid);
    out(`linked ${link} -> ${target}\n`);
  }
}

/** Whether this process is the single executable (links to `node` would be wrong under tsc output). */
function singleExecutable(): boolean {
  try {
    return (require('node:sea') as { isSea(): boolean }).isSea();
  } catch {
    return false;
  }
}

interface InitFlags {
  user?: string;
  group?: string;
  relativeLinks?: boolean;
}

/** `tedge init`: thin-edge's directories and ownership, and the component links. */
export function registerInitCommand(program: Command, context: () => CommandContext): void {
  program
    .command('init')
    .description('create the directories of the config dir, logs.path, data.path and the agent state, owned by the tedge user, and the links to the components')
    .option('--user <user>', 'owner of the directories (default: user of <config-dir>/system.toml, else tedge)')
    .option('--group <group>', 'group of the directories (default: group of <config-dir>/system.toml, else tedge)')
    .option('--relative-links', 'link the components to the executable by its name, not its path')
    .action((flags: InitFlags) => {
      const ctx = context();
      const config = ctx.config();
      const configDir = config.configDir;
      const fromFile = systemTomlOwner(configDir);
      const owner: Owner = {
        uid: lookupId('/etc/passwd', flags.user ?? fromFile.user ?? 'tedge', 'user'),
        gid: lookupId('/etc/group', flags.group ?? fromFile.group ?? 'tedge', 'group'),
      };
      try {
        ensureDir(configDir, owner, 0o775, ctx.out);
        for (const sub of CONFIG_SUBDIRS) ensureDir(join(configDir, sub), owner, 0o775, ctx.out);
        ensureDir(config.string('logs.path'), owner, 0o775, ctx.out);
        ensureDir(config.string('data.path'), owner, 0o775, ctx.out);
        // thin-edge: agent.state.path when it exists, else <config-dir>/.agent.
        const state = config.string('agent.state.path');
        ensureDir(existsSync(state) && statSync(state).isDirectory() ? state : join(configDir, '.agent'), owner, 0o775, ctx.out);
        const systemToml = join(configDir, 'system.toml');
        if (existsSync(systemToml)) {
          chownSync(systemToml, owner.uid, owner.gid);
          chmodSync(systemToml, 0o644);
        }
        if (singleExecutable()) createComponentLinks(process.execPath, LINKED_PROGRAMS, flags.relativeLinks === true, owner, ctx.out);
      } catch (err) {
        if (err instanceof TedgeError) throw err;
        throw new TedgeError('IO', `tedge init: ${errorMessage(err)} (run it as root: sudo tedge init)`, { cause: err });
      }
    });
}
