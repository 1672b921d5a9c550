import type { Command } from 'commander';
import { isAbsolute, normalize } from 'node:path';
import { lookupId, parseMode } from '../agent/tedge-write/accounts';
import { writeFileAtomic } from '../agent/tedge-write/atomic-write';
import { TedgeError, errorMessage } from '../core/errors';
import type { CommandContext } from './context';

interface WriteOptions {
  mode?: string;
  user?: string;
  group?: string;
}

/**
 * `tedge write DEST [--mode M] [--user U] [--group G]` (also the multi-call name `tedge-write`): stdin to
 * DEST atomically; mode and owner apply to a new file only, an existing file keeps its own (thin-edge's
 * tedge-write). The agent runs it through sudo to write files it may not write itself, so DEST must be an
 * absolute, canonical path: sudoers rules match on it (`tedge-write /etc/*`) and `..` would escape them.
 */
export function registerWriteCommand(program: Command, context: () => CommandContext): void {
  program
    .command('write')
    .description('write stdin to a file atomically (temp file + rename); mode/owner only for a new file')
    .argument('<destination>', 'absolute path of the file to write')
    .option('--mode <octal>', 'mode of a new file, e.g. 644')
    .option('--user <name>', 'owner of a new file')
    .option('--group <name>', 'group of a new file')
    .action(async (dest: string, opts: WriteOptions) => {
      if (!isAbsolute(dest)) throw new TedgeError('USAGE', `destination path has to be absolute: ${dest}`);
      if (normalize(dest) !== dest || dest.endsWith('/')) throw new TedgeError('USAGE', `destination path ${dest} is not canonical (expected ${normalize(dest).replace(/\/$/, '')})`);
      let perms: { mode?: number; uid?: number; gid?: number };
      try {
        perms = {
          ...(opts.mode !== undefined ? { mode: parseMode(opts.mode) } : {}),
          ...(opts.user !== undefined ? { uid: lookupId('user', opts.user) } : {}),
          ...(opts.group !== undefined ? { gid: lookupId('group', opts.group) } : {}),
        };
      } catch (e) {
        throw new TedgeError('USAGE', errorMessage(e));
      }
      try {
        // The bytes come from the process's stdin: this command is a pipe's end by design.
        await writeFileAtomic(process.stdin, dest, perms);
      } catch (e) {
        throw new TedgeError('IO', `failed to write to destination file '${dest}': ${errorMessage(e)}`, { cause: e });
      }
    });
}
