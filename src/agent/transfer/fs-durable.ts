import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Makes a rename durable: the directory entry is data too. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Renames a complete, already fsync'ed file over `dest` and syncs the directory. */
export async function durableRename(from: string, dest: string): Promise<void> {
  await rename(from, dest);
  await fsyncDir(dirname(dest));
}
