import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The name of the native addon inside a single executable (SEA asset; scripts/package.sh). */
export const SEA_ADDON_ASSET = 'tedge_native.node';

/** Set by the armhf bundle's entry (Node 20.11 has no SEA assets): the addon's bytes, embedded in the JS. */
type EmbeddingGlobal = { __TEDGE_EMBEDDED_ADDON__?: unknown };

interface SeaModule {
  isSea(): boolean;
  getAsset(key: string): ArrayBuffer;
}

/** The addon's bytes when running as a single executable that carries one; undefined otherwise. */
function addonBytes(): Uint8Array | undefined {
  const embedded = (globalThis as EmbeddingGlobal).__TEDGE_EMBEDDED_ADDON__;
  if (embedded instanceof Uint8Array) return embedded;
  let sea: SeaModule;
  try {
    // `node:sea` exists from Node 20.12; the armhf runtime (20.11) has none.
    sea = require('node:sea') as SeaModule;
  } catch {
    return undefined;
  }
  if (!sea.isSea()) return undefined;
  try {
    return new Uint8Array(sea.getAsset(SEA_ADDON_ASSET));
  } catch {
    return undefined; // built without the addon: the pure-TS codec is used
  }
}

/**
 * process.dlopen needs a file: the addon of a single executable is written once to a directory of the
 * running user (0700; content-addressed name, so a new binary never loads an old addon) and its path returned.
 * Undefined when there is no embedded addon or it cannot be written (the TS fallback is then used).
 *
 * `bin/tedge.ts` passes the result to the one loader of the addon (src/native/binding.ts) as
 * TEDGE_NATIVE_PATH, before anything loads the native codec.
 */
export function extractSeaAddon(baseDir: string = tmpdir()): string | undefined {
  const bytes = addonBytes();
  if (bytes === undefined) return undefined;
  try {
    const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
    const dir = join(baseDir, `tedge-native-${uid}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    // Someone else's directory (or a symlink planted in /tmp) would let them swap the library we load.
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) return undefined;
    const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
    const path = join(dir, `tedge_native-${digest}.node`);
    try {
      if (createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16) === digest) return path;
    } catch {
      // not there yet
    }
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes, { mode: 0o500 });
    chmodSync(tmp, 0o500);
    renameSync(tmp, path);
    return path;
  } catch {
    return undefined;
  }
}
