import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/paths';

/**
 * The .deb installed, run, upgraded and purged in a debootstrap chroot (scripts/test-deb-chroot.sh).
 * Opt-in, needs root and a built package:
 *   PACKAGE_ARCHS=x86_64 npm run package && TEDGE_SYSTEM_TESTS=1 node --test dist/test/system/
 * TEDGE_SYSTEM_ARCHS="amd64 arm64 armhf" tests more architectures (ARM under qemu-user binfmt).
 */
const enabled = process.env['TEDGE_SYSTEM_TESTS'] === '1';
const archs = (process.env['TEDGE_SYSTEM_ARCHS'] ?? 'amd64').split(/\s+/).filter((a) => a !== '');

describe('the .deb in a Debian 12 chroot', { skip: enabled ? false : 'set TEDGE_SYSTEM_TESTS=1 (needs root and dist/packages/*.deb)' }, () => {
  for (const arch of archs) {
    it(`installs, runs tedge run all, upgrades and purges cleanly (${arch})`, { timeout: 30 * 60_000 }, () => {
      const result = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'test-deb-chroot.sh'), arch], { stdio: 'inherit', timeout: 30 * 60_000 });
      assert.equal(result.status, 0, `scripts/test-deb-chroot.sh ${arch} failed`);
    });
  }
});
