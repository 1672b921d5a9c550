import { lstat, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';

/** A request path inside the file transfer root, as its segments, or why it is refused. */
export type TransferPath = { readonly ok: true; readonly segments: readonly string[] } | { readonly ok: false; readonly reason: string };

/**
 * Confines `/te/v1/files/<raw>` to the file transfer root, by refusing rather than normalising: the
 * raw (still percent-encoded) path is split on `/` first, then each segment is decoded, so an encoded
 * `/` or `\` can never become a separator. Refused: absolute paths (a leading `/`), empty segments,
 * `.` and `..` (also when encoded, `%2e%2e`), `/`, `\` or NUL in a segment (raw or encoded), malformed
 * percent-encoding, and an empty path. One trailing `/` is ignored (`a/b/` is `a/b`, as in thin-edge).
 */
export function parseTransferPath(raw: string): TransferPath {
  const refuse = (why: string): TransferPath => ({ ok: false, reason: `Invalid file path: "${raw}": ${why}` });
  if (raw === '') return refuse('empty');
  if (raw.startsWith('/')) return refuse('absolute paths are not allowed');
  const parts = raw.split('/');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  const segments: string[] = [];
  for (const part of parts) {
    let seg: string;
    try {
      seg = decodeURIComponent(part);
    } catch {
      return refuse('malformed percent-encoding');
    }
    if (seg === '') return refuse('empty path segment');
    if (seg === '.' || seg === '..') return refuse(`'${seg}' segments are not allowed`);
    if (/[/\\\u0000]/.test(seg)) return refuse('a segment contains /, \\ or NUL');
    segments.push(seg);
  }
  return { ok: true, segments };
}

function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * The file a request names, after checking that no symlink on the way leads out of the root:
 * every existing component (the target too) must resolve inside the root's real path. Components
 * that do not exist yet are fine (PUT creates them as plain directories inside a checked parent).
 * Returns undefined when a symlink escapes. A local user who can write the root could still race
 * this check; the service guards against requests, not against the device's own users.
 */
export async function confinedPath(root: string, segments: readonly string[]): Promise<string | undefined> {
  const realRoot = await realpath(root);
  let current = root;
  for (const seg of segments) {
    current = join(current, seg);
    let isLink: boolean;
    try {
      isLink = (await lstat(current)).isSymbolicLink();
    } catch (err) {
      if (isMissing(err)) break;
      throw err;
    }
    if (!isLink) continue;
    let target: string;
    try {
      target = await realpath(current);
    } catch (err) {
      // A dangling link: where it points is unknown until created; refuse rather than follow it later.
      if (isMissing(err)) return undefined;
      throw err;
    }
    if (!isInside(realRoot, target)) return undefined;
  }
  return join(root, ...segments);
}
