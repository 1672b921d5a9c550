import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { chownRecorder } from '../../helpers/chown-recorder';
import { REPO_ROOT } from '../../helpers/paths';

const SYSTEMD = join(REPO_ROOT, 'packaging', 'systemd');
const script = (name: string): string => readFileSync(join(REPO_ROOT, 'packaging', 'deb', name), 'utf8');

/** The units of the `for unit in …; do` loop around `deb-systemd-invoke <action>`. */
function loopUnits(text: string, action: string): string[] {
  const m = new RegExp(`for unit in ([^;]+); do\\s*\\n\\s*deb-systemd-invoke ${action} "\\$unit"`).exec(text);
  assert.ok(m?.[1] !== undefined, `no deb-systemd-invoke ${action} loop`);
  return m[1].trim().split(/\s+/).sort();
}

describe('deb maintainer scripts', () => {
  // Templates (tedge-mapper-c8y@.service) have no instance to name here.
  const units = readdirSync(SYSTEMD).filter((f) => f.endsWith('.service') && !f.includes('@')).sort();

  it('an upgrade try-restarts every packaged unit (only those running are restarted: run-all and its conflicting units never both)', () => {
    assert.ok(units.includes('tedge-watchdog.service'));
    assert.deepEqual(loopUnits(script('postinst'), 'try-restart'), units);
  });

  it('a removal stops every packaged unit', () => {
    assert.deepEqual(loopUnits(script('prerm'), 'stop'), units);
  });

  it('the package enables no unit: `tedge connect` enables the per-daemon ones, and enabling a unit that conflicts with tedge-run-all would fight it at boot', () => {
    for (const name of ['postinst', 'prerm']) assert.doesNotMatch(script(name), /\benable\b/);
    for (const unit of units.filter((u) => u !== 'tedge-run-all.service')) {
      assert.match(readFileSync(join(SYSTEMD, unit), 'utf8'), /^Conflicts=tedge-run-all\.service$/m, unit);
    }
  });

  it("postinst runs the one copy of the mappers' flows that the .deb ships, and the Yocto recipe runs too", () => {
    assert.match(script('postinst'), /^ {4}configure\)\n[\s\S]*?^ {8}\/usr\/share\/tedge\/install-builtin-flows\n[\s\S]*?^ {8};;$/m);
    assert.match(readFileSync(join(REPO_ROOT, 'scripts/package.sh'), 'utf8'), /^ {2}install -m 0755 packaging\/install-builtin-flows "\$root\/usr\/share\/tedge\/install-builtin-flows"$/m);
  });

  it("install-builtin-flows installs the mappers' flows with their templates where none is there, and leaves an edited, disabled or removed one alone", () => {
    const root = mkdtempSync(join(tmpdir(), 'postinst-flows-'));
    try {
      const chown = chownRecorder(root);
      cpSync(join(REPO_ROOT, 'packaging', 'mappers'), join(root, 'usr/share/tedge/mappers'), { recursive: true });
      const flows = (cloud: string): string => join(root, 'etc/tedge/mappers', cloud, 'flows');
      mkdirSync(flows('az'), { recursive: true });
      writeFileSync(join(flows('az'), 'mea.toml'), 'edited\n');
      writeFileSync(join(flows('az'), 'mea.toml.template'), 'older\n');
      mkdirSync(flows('aws'), { recursive: true });
      writeFileSync(join(flows('aws'), 'mea.toml.template'), 'older\n');
      mkdirSync(flows('c8y'), { recursive: true });
      writeFileSync(join(flows('c8y'), 'alarms.toml.disabled'), 'mine\n');
      // The root argument (Yocto's $D at rootfs time) puts every path under the temp root; run twice, as an upgrade does.
      for (let run = 0; run < 2; run++) {
        execFileSync(join(REPO_ROOT, 'packaging', 'install-builtin-flows'), [root], { env: { PATH: chown.path } });
      }
      assert.equal(readFileSync(join(flows('az'), 'mea.toml'), 'utf8'), 'edited\n');
      assert.equal(readFileSync(join(flows('az'), 'mea.toml.template'), 'utf8'), 'older\n');
      assert.equal(existsSync(join(flows('aws'), 'mea.toml')), false, 'a removed flow (its template left) stays removed');
      assert.equal(existsSync(join(flows('c8y'), 'alarms.toml')), false, 'a disabled flow stays disabled');
      assert.equal(existsSync(join(flows('c8y'), 'alarms.toml.template')), false, 'a disabled flow gets no template');
      for (const name of ['measurements', 'events', 'health']) {
        const shipped = readFileSync(join(REPO_ROOT, 'packaging/mappers/c8y/flows', `${name}.toml`), 'utf8');
        assert.equal(readFileSync(join(flows('c8y'), `${name}.toml`), 'utf8'), shipped);
        assert.equal(readFileSync(join(flows('c8y'), `${name}.toml.template`), 'utf8'), shipped);
        assert.equal((statSync(join(flows('c8y'), `${name}.toml`)).mode & 0o777).toString(8), '644');
      }
      const calls = chown.calls();
      assert.match(calls, new RegExp(`^chown tedge:tedge ${root}/etc/tedge/mappers ${root}/etc/tedge/mappers/c8y ${root}/etc/tedge/mappers/c8y/flows$`, 'm'));
      const measurements = `${flows('c8y')}/measurements.toml`;
      assert.equal(calls.split('\n').filter((l) => l === `chown tedge:tedge ${measurements} ${measurements}.template`).length, 1, 'chowned once, when installed');
      assert.doesNotMatch(calls, /az\/flows\/mea\.toml/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
