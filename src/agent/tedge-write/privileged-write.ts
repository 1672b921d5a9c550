import { spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../../core/errors';
import { findOnPath } from '../operations/software/plugin-exec';
import { lookupId } from './accounts';
import { writeFileAtomic } from './atomic-write';

/** Mode and owner for a file that does not exist yet, as written in a plugin toml. */
export interface FileOwnership {
  readonly mode?: number;
  readonly user?: string;
  readonly group?: string;
}

export interface DeployOptions {
  /** sudo.enable: tedge-write runs as `sudo -n tedge-write …` when sudo is installed. */
  readonly sudo: boolean;
  /** The tedge-write command line (program and leading args); default tedgeWriteCommand(). */
  readonly tedgeWrite?: readonly string[];
  readonly log?: (line: string) => void;
  /** The direct write; injectable so tests can refuse it as a non-root agent would see. */
  readonly writeDirect?: typeof writeFileAtomic;
}

/**
 * The tedge-write program: a `tedge-write` link on PATH (what sudoers allows: /usr/bin/tedge-write /etc/*),
 * else this very program in `tedge write` mode (the single executable, or node and dist/src/bin/tedge.js).
 */
export function tedgeWriteCommand(): string[] {
  const onPath = findOnPath('tedge-write');
  if (onPath !== undefined) return [onPath];
  return [...tedgeCommand(), 'write'];
}

/** This very program as the `tedge` CLI: the single executable, or node and dist/src/bin/tedge.js. */
export function tedgeCommand(): string[] {
  const script = join(__dirname, '..', '..', 'bin', 'tedge.js');
  return existsSync(script) ? [process.execPath, script] : [process.execPath];
}

/** The argv of one tedge-write call: `[sudo -n] tedge-write DEST [--mode M] [--user U] [--group G]`. */
export function tedgeWriteArgv(command: readonly string[], dest: string, own: FileOwnership, sudoPath: string | undefined): string[] {
  const argv = [...(sudoPath !== undefined ? [sudoPath, '-n'] : []), ...command, dest];
  if (own.mode !== undefined) argv.push('--mode', own.mode.toString(8));
  if (own.user !== undefined) argv.push('--user', own.user);
  if (own.group !== undefined) argv.push('--group', own.group);
  return argv;
}

/**
 * Puts the file `from` at `dest` atomically, keeping the mode and owner of the file it replaces (or `own`
 * for a new one). Written directly when the agent may; when that is refused (EACCES/EPERM: a root-owned
 * /etc file and a `tedge` agent), through tedge-write (via sudo when enabled), like thin-edge.
 */
export async function deployFile(from: string, dest: string, own: FileOwnership, opts: DeployOptions): Promise<'direct' | 'tedge-write'> {
  const write = opts.writeDirect ?? writeFileAtomic;
  try {
    const uid = own.user === undefined ? undefined : lookupId('user', own.user);
    const gid = own.group === undefined ? undefined : lookupId('group', own.group);
    await write(from, dest, { ...(own.mode !== undefined ? { mode: own.mode } : {}), ...(uid !== undefined ? { uid } : {}), ...(gid !== undefined ? { gid } : {}) });
    return 'direct';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw new Error(`cannot write ${dest}: ${errorMessage(e)}`, { cause: e });
    opts.log?.(`writing ${dest} directly was refused (${code}); writing it through tedge-write`);
  }
  const argv = tedgeWriteArgv(opts.tedgeWrite ?? tedgeWriteCommand(), dest, own, opts.sudo ? findOnPath('sudo') : undefined);
  opts.log?.(`----- $ ${argv.join(' ')}`);
  await runWithStdin(argv, from);
  return 'tedge-write';
}

function runWithStdin(argv: readonly string[], stdinFile: string): Promise<void> {
  const [program, ...args] = argv;
  if (program === undefined) return Promise.reject(new Error('empty tedge-write command'));
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    const stderr: Buffer[] = [];
    child.stderr?.on('data', (d: Buffer) => stderr.push(d));
    child.on('error', (e) => reject(new Error(`cannot run ${program}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const why = Buffer.concat(stderr).toString('utf8').trim();
      reject(new Error(`${argv.join(' ')} ${code === null ? `was killed by ${signal ?? 'a signal'}` : `exited with ${code}`}${why ? `: ${why}` : ''}`));
    });
    child.stdin?.on('error', () => undefined);
    const input = createReadStream(stdinFile);
    input.on('error', (e) => {
      child.kill();
      reject(new Error(`cannot read ${stdinFile}: ${e.message}`));
    });
    if (child.stdin) input.pipe(child.stdin);
  });
}
