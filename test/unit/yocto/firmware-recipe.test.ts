import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { bitbakeSyntaxErrors } from '../../helpers/bitbake-grammar';
import { REPO_ROOT } from '../../helpers/paths';

const RECIPE = join(REPO_ROOT, 'yocto', 'meta-tedge-ts', 'recipes-tedge', 'tedge-firmware-rauc', 'tedge-firmware-rauc_0.1.0.bb');

/** The RAUC firmware backend recipe: syntax only (no bitbake here), its shell, and the files it takes. */
describe('yocto: tedge-firmware-rauc recipe', () => {
  const recipe = readFileSync(RECIPE, 'utf8');

  it('parses with the BitBake grammar', async () => {
    assert.deepEqual(await bitbakeSyntaxErrors(recipe), []);
  });

  it('do_install and the postinst are valid sh', () => {
    for (const name of ['do_install', 'pkg_postinst_ontarget:${PN}']) {
      const lines = recipe.split('\n');
      const start = lines.indexOf(`${name}() {`);
      assert.ok(start >= 0, `no ${name}()`);
      const end = lines.findIndex((l, i) => i > start && l === '}');
      execFileSync('sh', ['-n', '-c', lines.slice(start + 1, end).join('\n')]);
    }
  });

  it('takes only files packaging/firmware and packaging/operations ship, and the backend is valid sh', () => {
    const files = [...recipe.matchAll(/file:\/\/([\w.-]+)/g)].map((m) => m[1] ?? '').filter((f) => f !== 'Apache-2.0' && !f.startsWith('$'));
    assert.deepEqual(files, ['tedge-firmware-rauc', 'sudoers-firmware', 'firmware_update.toml']);
    for (const f of files) assert.ok(existsSync(join(REPO_ROOT, 'packaging', f.endsWith('.toml') ? 'operations' : 'firmware', f)), f);
    assert.match(recipe, /^CONFFILES:\$\{PN\} = ".*\/tedge\/operations\/firmware_update\.toml"$/m);
    execFileSync('sh', ['-n', join(REPO_ROOT, 'packaging', 'firmware', 'tedge-firmware-rauc')]);
    assert.match(readFileSync(join(REPO_ROOT, 'packaging', 'firmware', 'sudoers-firmware'), 'utf8'), /NOPASSWD: \/usr\/share\/tedge\/firmware\/tedge-firmware-rauc$/m);
  });
});
