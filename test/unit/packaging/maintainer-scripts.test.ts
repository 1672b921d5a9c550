import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
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
});
