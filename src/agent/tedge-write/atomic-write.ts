import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fsyncDir } from '../transfer/fs-durable';

/** Mode and owner a new file gets; an existing file keeps its own (thin-edge's tedge-write). */
export interface NewFilePermissions {
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

/**
 * Replaces `dest` atomically with the bytes of `source` (a file path or a stream): a temp file in the
 * same directory (0600 while written), given the mode and owner of the file it replaces, or `perms` for a
 * new file (default 0644, the writing user), fsync'ed, renamed over `dest`, directory fsync'ed. A reader
 * sees the old file or the new one, never a torn one. Errors keep their errno code (EACCES/EPERM tell
 * the caller to retry through tedge-write).
 */
export async function writeFileAtomic(source: string | Readable, dest: string, perms: NewFilePermissions = {}): Promise<void> {
  const current = await stat(dest).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  const mode = current ? current.mode & 0o7777 : (perms.mode ?? 0o644);
  const uid = current ? current.uid : perms.uid;
  const gid = current ? current.gid : perms.gid;
  const temp = join(dirname(dest), `.${basename(dest)}.tedge-${randomBytes(6).toString('hex')}`);
  const fh = await open(temp, 'wx', 0o600);
  let renamed = false;
  try {
    const input = typeof source === 'string' ? createReadStream(source) : source;
    for await (const chunk of input) await fh.write(chunk as Buffer);
    await fh.chmod(mode);
    const myUid = process.getuid?.();
    const myGid = process.getgid?.();
    // chown only when it changes something: a non-root agent may keep its own files without privileges.
    if ((uid !== undefined && uid !== myUid) || (gid !== undefined && gid !== myGid)) await fh.chown(uid ?? -1, gid ?? -1);
    await fh.sync();
    await fh.close();
    await rename(temp, dest);
    renamed = true;
    await fsyncDir(dirname(dest));
  } finally {
    if (!renamed) {
      await fh.close().catch(() => undefined);
      await rm(temp, { force: true });
    }
  }
}
