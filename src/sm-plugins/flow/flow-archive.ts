import { chmodSync, mkdirSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { errorMessage } from '../../core/errors';
import { readTar } from './tar-reader';

/** A flow package is a few scripts: more than this once unpacked is not one (and a gzip bomb stops here). */
export const MAX_UNPACKED_BYTES = 64 * 1024 * 1024;

/** What an archive member becomes, its path relative to the flow directory and checked to stay inside it. */
export type PlannedEntry =
  | { readonly kind: 'directory'; readonly path: string }
  | { readonly kind: 'file'; readonly path: string; readonly data: Buffer; readonly executable: boolean }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string };

/** A gzip tarball (thin-edge's flow packages) or a plain tar, told apart by the gzip magic. */
export function tarBytes(file: Buffer): Buffer {
  if (file[0] !== 0x1f || file[1] !== 0x8b) return file;
  try {
    return gunzipSync(file, { maxOutputLength: MAX_UNPACKED_BYTES });
  } catch (err) {
    if (err instanceof RangeError) throw new Error(`the archive is larger than ${MAX_UNPACKED_BYTES / 1048576} MiB once unpacked`);
    throw new Error(`not a gzip archive: ${errorMessage(err)}`);
  }
}

/** A member's name as a path inside the flow directory; undefined for the root itself (`./`). */
function confined(name: string): string | undefined {
  if (name.startsWith('/')) throw new Error(`the archive member '${name}' has an absolute path`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new Error(`the archive member '${name}' points outside the flow directory`);
  return parts.length === 0 ? undefined : parts.join('/');
}

/**
 * The members of a flow archive as files to write, refusing anything that could land outside the flow
 * directory: absolute names, `..`, links whose target leaves the directory, members written through a
 * link, hard links and device files.
 */
export function planFlowArchive(file: Buffer): PlannedEntry[] {
  const planned: PlannedEntry[] = [];
  for (const entry of readTar(tarBytes(file))) {
    const path = confined(entry.name);
    if (path === undefined) continue;
    switch (entry.type) {
      case 'directory':
        planned.push({ kind: 'directory', path });
        break;
      case 'file':
        planned.push({ kind: 'file', path, data: entry.data, executable: (entry.mode & 0o111) !== 0 });
        break;
      case 'symlink': {
        const resolved = posix.normalize(posix.join(posix.dirname(path), entry.linkName));
        if (entry.linkName.startsWith('/') || resolved === '..' || resolved.startsWith('../')) {
          throw new Error(`the archive member '${entry.name}' is a link to '${entry.linkName}', outside the flow directory`);
        }
        planned.push({ kind: 'symlink', path, target: entry.linkName });
        break;
      }
      case 'hardlink':
        throw new Error(`the archive member '${entry.name}' is a hard link (not supported in a flow package)`);
      case 'other':
        throw new Error(`the archive member '${entry.name}' is neither a file, a directory nor a symbolic link`);
    }
  }
  const links = planned.filter((e) => e.kind === 'symlink').map((e) => e.path);
  for (const e of planned) {
    const through = links.find((l) => e.path.startsWith(`${l}/`));
    if (through !== undefined) throw new Error(`the archive member '${e.path}' would be written through the link '${through}'`);
  }
  return planned;
}

/**
 * Writes the planned entries under `dir` (a fresh directory: nothing in it but what this writes).
 * Links come last, so no file is ever written through one; then each link is resolved on disk, as a
 * chain of links (`a -> ..` and `b -> a/..`) can leave the directory where each alone does not, and
 * must end at a file of the package.
 */
export function writeFlowArchive(planned: readonly PlannedEntry[], dir: string): void {
  for (const e of planned) {
    const path = join(dir, e.path);
    if (e.kind === 'directory') mkdirSync(path, { recursive: true });
    else if (e.kind === 'file') {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, e.data);
      chmodSync(path, e.executable ? 0o755 : 0o644);
    }
  }
  for (const e of planned) {
    if (e.kind !== 'symlink') continue;
    mkdirSync(dirname(join(dir, e.path)), { recursive: true });
    symlinkSync(e.target, join(dir, e.path));
  }
  // The kernel's resolution (realpath(3)): node's own realpathSync folds `..` before it follows a link.
  const root = realpathSync.native(dir);
  for (const e of planned) {
    if (e.kind !== 'symlink') continue;
    let real: string;
    try {
      real = realpathSync.native(join(dir, e.path));
    } catch {
      throw new Error(`the archive member '${e.path}' is a link to '${e.target}', which is not in the archive`);
    }
    if (real !== root && !real.startsWith(`${root}${sep}`)) throw new Error(`the archive member '${e.path}' is a link to '${e.target}', outside the flow directory`);
    // A link to a directory can make a loop (`d/up -> ..`) that every walk of the flows directory would follow.
    if (!statSync(real).isFile()) throw new Error(`the archive member '${e.path}' is a link to the directory '${e.target}' (only links to files are supported)`);
  }
}
