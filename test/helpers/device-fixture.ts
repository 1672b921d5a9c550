import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Absolute paths a thin-edge device's files name that a test must keep inside its own directory. */
const DEVICE_PATH = /(?<![\w.\/-])\/(etc\/tedge|var)(?=[\/'"\s]|$)/gm;

/** `text` with each absolute `/etc/tedge…` or `/var/…` path moved under `root`; nothing else changes. */
export function rehomeDevicePaths(text: string, root: string): string {
  return text.replace(DEVICE_PATH, (_m, head: string) => `${root}/${head}`);
}

/**
 * Copies a device's `/etc/tedge` (the fixture directory `from`) to `<root>/etc/tedge`, files byte for byte
 * except for the absolute `/etc/tedge` and `/var` paths they name, which point under `root` instead; modes
 * (executable plugins and scripts) are kept. Returns the new config directory.
 */
export function installDeviceFixture(from: string, root: string): string {
  const configDir = join(root, 'etc', 'tedge');
  copyTree(from, configDir, root);
  return configDir;
}

function copyTree(from: string, to: string, root: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    const st = statSync(src);
    if (st.isDirectory()) {
      copyTree(src, dst, root);
      continue;
    }
    const bytes = readFileSync(src);
    // A binary file (a NUL byte) is copied as it is: only text names paths.
    writeFileSync(dst, bytes.includes(0) ? bytes : rehomeDevicePaths(bytes.toString('utf8'), root));
    chmodSync(dst, st.mode & 0o7777);
  }
}
