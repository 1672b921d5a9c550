import { closeSync, fchmodSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Mode of a directory we create for certificates. Not 0700: mosquitto (another user) must read the
 * certificate in mosquitto-bridge mode; the key is protected by its own mode (0600). An existing
 * directory keeps the mode its owner gave it.
 */
const CERT_DIR_MODE = 0o755;

/**
 * Writes a file so that readers see the old content or the new one, never a torn one, even across a
 * power cut: temp file in the same directory (created with the final mode, so a key is never readable
 * by others, not even for an instant), fsync, rename over the target, fsync the directory.
 */
export function writeFileAtomic(path: string, data: string, mode: number): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: CERT_DIR_MODE });
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}`);
  rmSync(tmp, { force: true }); // left by a crashed run that had the same pid
  try {
    const fd = openSync(tmp, 'wx', mode);
    try {
      fchmodSync(fd, mode); // exactly `mode`, whatever the umask: mosquitto must read a 0644 certificate
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
  syncDirectory(dir);
}

/** Makes a rename or unlink in `dir` durable. Best effort: some file systems refuse fsync on a directory. */
export function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // The data itself is already on disk; only the directory entry's durability is at stake.
  }
}

/** Removes a file; false when there was none. */
export function removeFile(path: string): boolean {
  try {
    rmSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
