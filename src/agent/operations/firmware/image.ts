import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errorMessage } from '../../../core/errors';
import type { TlsOptions } from '../../transfer/http-client';

/** Kept free under tmp.path whatever the image: the agent and others write their temporary files there too. */
export const FREE_SPACE_RESERVE = 16 * 1024 * 1024;

/** The downloader (src/agent/transfer/download.ts): resumable from `<dest>.part`, bounded by maxBytes. */
export type DownloadFn = (url: string, dest: string, opts: { signal: AbortSignal; log?: (l: string) => void; maxBytes?: number; tls?: TlsOptions }) => Promise<void>;

/** Where a command's image goes: one file per command, so a resumed download finds its `.part`. */
export function imagePath(tmpDir: string, cmdId: string): string {
  return join(tmpDir, 'firmware', `${cmdId.replace(/[^0-9A-Za-z._-]/g, '_')}.img`);
}

/** The largest image that fits: what is free under the directory, plus what the partial download already holds, less the reserve. */
export function spaceLimit(freeBytes: number, partBytes: number): number {
  return Math.max(0, freeBytes + partBytes - FREE_SPACE_RESERVE);
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Downloads the image to `file` (resuming `<file>.part`), refused when it cannot fit under its
 * directory, then checks `sha256`: a corrupt or truncated image is removed and never reaches the backend.
 * Throws with the reason the command fails with.
 */
export async function fetchImage(
  download: DownloadFn,
  req: { readonly url: string; readonly sha256?: string },
  file: string,
  opts: { readonly signal: AbortSignal; readonly log: (l: string) => void; readonly tls?: TlsOptions },
): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const fs = await statfs(dirname(file));
  const limit = spaceLimit(fs.bavail * fs.bsize, await sizeOf(`${file}.part`));
  try {
    await download(req.url, file, { signal: opts.signal, log: opts.log, maxBytes: limit, ...(opts.tls ? { tls: opts.tls } : {}) });
  } catch (err) {
    const text = errorMessage(err);
    // The downloader names the byte limit; say why there is one.
    throw new Error(/over the limit|more than the limit/.test(text) ? `not enough free space under ${dirname(file)} for the firmware image: ${text}` : text);
  }
  if (req.sha256 === undefined) return;
  const actual = await sha256Of(file);
  if (actual !== req.sha256) {
    const size = await sizeOf(file);
    await rm(file, { force: true });
    throw new Error(`the firmware image is corrupt or truncated: sha256 ${actual} (${size} bytes) is not the expected ${req.sha256}`);
  }
  opts.log(`sha256 checked: ${actual}`);
}
