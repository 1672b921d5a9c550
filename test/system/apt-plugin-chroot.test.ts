import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/paths';

/**
 * tedge-apt-plugin (the .deb's /etc/tedge/sm-plugins/apt) driving the real apt-get and dpkg in the
 * cached debootstrap chroot of the package tests (scripts/test-apt-plugin-chroot.sh): list, install --file,
 * update-list, remove of two local .deb files, checked with dpkg-query; then tedge-agent in the chroot doing a
 * software_update of a module URL and a software_list through it, over MQTT. Opt-in, needs root and a built package:
 *   PACKAGE_ARCHS=x86_64 npm run package && TEDGE_SYSTEM_TESTS=1 node --test dist/test/system/
 * amd64 only: the plugin logic does not depend on the architecture and qemu would make it slow.
 */
const enabled = process.env['TEDGE_SYSTEM_TESTS'] === '1';

describe('tedge-apt-plugin in a Debian 12 chroot', { skip: enabled ? false : 'set TEDGE_SYSTEM_TESTS=1 (needs root and dist/packages/*.deb)' }, () => {
  it('lists, installs and removes local .deb files through apt-get and dpkg (amd64)', { timeout: 15 * 60_000 }, () => {
    const result = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'test-apt-plugin-chroot.sh'), 'amd64'], { stdio: 'inherit', timeout: 15 * 60_000 });
    assert.equal(result.status, 0, 'scripts/test-apt-plugin-chroot.sh amd64 failed');
  });
});
