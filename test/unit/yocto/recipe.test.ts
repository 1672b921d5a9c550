import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bitbakeSyntaxErrors } from '../../helpers/bitbake-grammar';
import { chownRecorder } from '../../helpers/chown-recorder';
import { REPO_ROOT } from '../../helpers/paths';

const LAYER = join(REPO_ROOT, 'yocto', 'meta-tedge-ts');
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const RECIPE = join(LAYER, 'recipes-core', 'tedge', `tedge_${VERSION}.bb`);

/** The body of a shell function of the recipe (`name() {` ... `}` at column 0). */
function shellFunction(recipe: string, name: string): string {
  const lines = recipe.split('\n');
  const start = lines.findIndex((l) => l === `${name}() {`);
  assert.ok(start >= 0, `no ${name}() in the recipe`);
  const end = lines.findIndex((l, i) => i > start && l === '}');
  return lines.slice(start + 1, end).join('\n');
}

/** A plain `NAME = "value"` assignment (continued lines joined), as BitBake reads it. */
function variable(recipe: string, name: string): string {
  const match = new RegExp(`^${name} = "((?:[^"\\\\]|\\\\\\n)*)"`, 'm').exec(recipe);
  assert.ok(match?.[1] !== undefined, `no ${name} in the recipe`);
  return match[1].replace(/\\\n/g, ' ').replace(/\s+/g, ' ').trim();
}

describe('yocto/meta-tedge-ts', () => {
  const recipe = existsSync(RECIPE) ? readFileSync(RECIPE, 'utf8') : '';

  it(`has a recipe for the package version (tedge_${VERSION}.bb)`, () => {
    assert.ok(existsSync(RECIPE), `missing ${RECIPE}`);
  });

  for (const file of ['conf/layer.conf', `recipes-core/tedge/tedge_${VERSION}.bb`]) {
    it(`${file} parses with the BitBake grammar (tree-sitter-bitbake)`, async () => {
      assert.deepEqual(await bitbakeSyntaxErrors(readFileSync(join(LAYER, file), 'utf8')), []);
    });
  }

  it('the grammar check does catch a broken recipe', async () => {
    const errors = await bitbakeSyntaxErrors('SUMMARY = "unterminated\nLICENSE = "MIT"\n');
    assert.ok(errors.length > 0);
    assert.ok((await bitbakeSyntaxErrors('python () {\n    if x ==:\n        pass\n}\n')).length > 0);
  });

  it('its shell functions are valid sh (sh -n)', () => {
    for (const fn of ['do_install', 'pkg_postinst:${PN}']) {
      execFileSync('sh', ['-n', '-c', shellFunction(recipe, fn)]);
    }
  });

  it('takes from SRC_URI only files that packaging produces or ships', () => {
    const files = [...variable(recipe, 'SRC_URI').matchAll(/file:\/\/(\S+)/g)].map((m) => m[1] ?? '');
    const searchPath = ['packaging', 'packaging/systemd', 'packaging/config', 'packaging/deb'].map((d) => join(REPO_ROOT, d));
    for (const file of files) {
      if (file === 'tedge-${TEDGE_SEA_ARCH}') continue; // dist/packages/tedge-<arch>, by scripts/package.sh
      assert.ok(
        searchPath.some((d) => existsSync(join(d, file))),
        `${file} is in none of ${searchPath.join(', ')}`,
      );
    }
    assert.match(readFileSync(join(REPO_ROOT, 'scripts', 'package.sh'), 'utf8'), /cp "\$sea" "\$OUT\/tedge-\$arch"/);
    for (const arch of ['x86_64', 'aarch64', 'armhf']) assert.match(recipe, new RegExp(`TEDGE_SEA_ARCH:[a-z0-9-]+ = "${arch}"`));
    const units = variable(recipe, 'TEDGE_UNITS').split(' ');
    assert.deepEqual([...units].sort(), readdirSync(join(REPO_ROOT, 'packaging', 'systemd')).sort());
  });

  describe('do_install, run against a staged tree', () => {
    let dir: string;
    let image: string;
    let calls: string;

    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'tedge-yocto-'));
      const src = join(dir, 'work');
      image = join(dir, 'image');
      mkdirSync(src);
      mkdirSync(image);
      writeFileSync(join(src, 'tedge-aarch64'), '#!/bin/sh\necho stand-in for the SEA\n');
      for (const d of ['packaging/systemd', 'packaging/config', 'packaging/deb']) {
        for (const f of readdirSync(join(REPO_ROOT, d))) copyFileSync(join(REPO_ROOT, d, f), join(src, f));
      }
      copyFileSync(join(REPO_ROOT, 'packaging/runtime.env'), join(src, 'runtime.env'));
      copyFileSync(join(REPO_ROOT, 'packaging/install-builtin-flows'), join(src, 'install-builtin-flows'));
      // file://mappers: BitBake copies the directory of packaging/ into WORKDIR.
      cpSync(join(REPO_ROOT, 'packaging/mappers'), join(src, 'mappers'), { recursive: true });
      calls = join(dir, 'calls.log');
      // BitBake expands ${D}, ${bindir}... before the shell runs; exported variables of the same names do the same here.
      // chown needs the tedge user, which useradd.bbclass provides under pseudo: recorded instead.
      const script = `chown() { echo "chown $*" >> "${calls}"; }\nset -e\n${shellFunction(recipe, 'do_install')}\n`;
      execFileSync('sh', ['-c', script], {
        env: {
          PATH: process.env['PATH'] ?? '/usr/bin:/bin',
          D: image,
          S: src,
          WORKDIR: src,
          bindir: '/usr/bin',
          sysconfdir: '/etc',
          datadir: '/usr/share',
          nonarch_libdir: '/usr/lib',
          systemd_system_unitdir: '/lib/systemd/system',
          TEDGE_SEA_ARCH: 'aarch64',
          TEDGE_UNITS: variable(recipe, 'TEDGE_UNITS'),
        },
      });
    });

    after(() => rmSync(dir, { recursive: true, force: true }));

    const mode = (p: string): string => (statSync(join(image, p)).mode & 0o7777).toString(8);

    it('installs the single executable of the target architecture as /usr/bin/tedge, with its links', () => {
      assert.match(readFileSync(join(image, 'usr/bin/tedge'), 'utf8'), /stand-in for the SEA/);
      assert.equal(mode('usr/bin/tedge'), '755');
      for (const link of ['tedge-agent', 'tedge-mapper', 'tedge-flows-plugin']) {
        assert.ok(lstatSync(join(image, 'usr/bin', link)).isSymbolicLink());
        assert.equal(readlinkSync(join(image, 'usr/bin', link)), 'tedge');
      }
      assert.equal(readlinkSync(join(image, 'etc/tedge/sm-plugins/flow')), '/usr/bin/tedge-flows-plugin');
    });

    it('installs every systemd unit unchanged', () => {
      for (const unit of readdirSync(join(REPO_ROOT, 'packaging', 'systemd'))) {
        assert.equal(readFileSync(join(image, 'lib/systemd/system', unit), 'utf8'), readFileSync(join(REPO_ROOT, 'packaging/systemd', unit), 'utf8'));
        assert.equal(mode(`lib/systemd/system/${unit}`), '644');
      }
    });

    it('installs the configuration owned by tedge, and sudoers 0440 in a 0750 directory', () => {
      assert.equal(readFileSync(join(image, 'etc/tedge/tedge.ini'), 'utf8'), readFileSync(join(REPO_ROOT, 'packaging/config/tedge.ini'), 'utf8'));
      assert.ok(existsSync(join(image, 'etc/tedge/mosquitto-conf/tedge-mosquitto.conf')));
      assert.match(readFileSync(calls, 'utf8'), new RegExp(`^chown -R tedge:tedge ${image}/etc/tedge$`, 'm'));
      assert.equal(mode('etc/sudoers.d/tedge'), '440');
      assert.equal(mode('etc/sudoers.d'), '750');
      assert.equal(readFileSync(join(image, 'etc/sudoers.d/tedge'), 'utf8'), readFileSync(join(REPO_ROOT, 'packaging/deb/sudoers'), 'utf8'));
    });

    const shippedFlows = (): string[] =>
      readdirSync(join(REPO_ROOT, 'packaging/mappers'), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => relative(join(REPO_ROOT, 'packaging/mappers'), join(e.parentPath, e.name)));

    it("ships the built-in mappers' flows of packaging/mappers in /usr/share/tedge/mappers/, with the .deb's copy script, and none in the package's /etc", () => {
      const files = shippedFlows();
      assert.ok(files.length >= 12, 'the flows and templates of c8y, az and aws');
      for (const path of files) {
        assert.equal(readFileSync(join(image, 'usr/share/tedge/mappers', path), 'utf8'), readFileSync(join(REPO_ROOT, 'packaging/mappers', path), 'utf8'), path);
        assert.equal(mode(`usr/share/tedge/mappers/${path}`), '644');
      }
      assert.equal(readFileSync(join(image, 'usr/share/tedge/install-builtin-flows'), 'utf8'), readFileSync(join(REPO_ROOT, 'packaging/install-builtin-flows'), 'utf8'));
      assert.equal(mode('usr/share/tedge/install-builtin-flows'), '755');
      assert.equal(existsSync(join(image, 'etc/tedge/mappers')), false, 'a package upgrade would overwrite an edited flow');
      const packaged = (/^FILES:\$\{PN\} \+= "([^"]*)"/m.exec(recipe)?.[1] ?? '').split(' ');
      for (const p of ['${datadir}/tedge/mappers', '${datadir}/tedge/install-builtin-flows']) assert.ok(packaged.includes(p), `FILES lacks ${p}`);
    });

    it('installs the runtime flags where every unit reads them (EnvironmentFile)', () => {
      const unitPath = /^EnvironmentFile=(\S+)$/m.exec(readFileSync(join(REPO_ROOT, 'packaging/systemd/tedge-run-all.service'), 'utf8'))?.[1];
      assert.equal(unitPath, '/usr/lib/tedge/runtime.env');
      assert.equal(readFileSync(join(image, unitPath), 'utf8'), readFileSync(join(REPO_ROOT, 'packaging/runtime.env'), 'utf8'));
    });

    it('creates the state and log directories at boot (tmpfiles.d), owned by tedge', () => {
      const tmpfiles = readFileSync(join(image, 'usr/lib/tmpfiles.d/tedge.conf'), 'utf8');
      for (const d of ['/var/tedge', '/var/log/tedge', '/data/tedge/agent']) assert.match(tmpfiles, new RegExp(`^d ${d} 0755 tedge tedge -$`, 'm'));
    });

    it("pkg_postinst, twice at rootfs time: the mosquitto include_dir once, the mappers' flows where none is there, owned by tedge", () => {
      // The image as do_install left it, with mosquitto's configuration and a flow the user disabled beside it.
      const rootfs = join(dir, 'rootfs');
      cpSync(image, rootfs, { recursive: true, verbatimSymlinks: true });
      mkdirSync(join(rootfs, 'etc/mosquitto'), { recursive: true });
      writeFileSync(join(rootfs, 'etc/mosquitto/mosquitto.conf'), 'include_dir /etc/mosquitto/conf.d\n');
      mkdirSync(join(rootfs, 'etc/tedge/mappers/c8y/flows'), { recursive: true });
      writeFileSync(join(rootfs, 'etc/tedge/mappers/c8y/flows/alarms.toml.disabled'), 'mine\n');
      const chown = chownRecorder(dir);
      const run = (): void => {
        execFileSync('sh', ['-c', `set -e\n${shellFunction(recipe, 'pkg_postinst:${PN}')}`], {
          env: { PATH: chown.path, D: rootfs, sysconfdir: '/etc', datadir: '/usr/share' },
        });
      };
      run();
      writeFileSync(join(rootfs, 'etc/tedge/mappers/az/flows/mea.toml'), 'edited\n');
      run();
      const conf = readFileSync(join(rootfs, 'etc/mosquitto/mosquitto.conf'), 'utf8');
      assert.equal(conf.match(/^include_dir \/etc\/tedge\/mosquitto-conf$/gm)?.length, 1);
      for (const path of shippedFlows().filter((p) => !p.startsWith('c8y/flows/alarms.toml') && !p.startsWith('az/flows/mea.toml'))) {
        assert.equal(readFileSync(join(rootfs, 'etc/tedge/mappers', path), 'utf8'), readFileSync(join(REPO_ROOT, 'packaging/mappers', path), 'utf8'), path);
      }
      assert.equal(readFileSync(join(rootfs, 'etc/tedge/mappers/az/flows/mea.toml'), 'utf8'), 'edited\n', 'the second run (an upgrade) keeps an edited flow');
      assert.equal(existsSync(join(rootfs, 'etc/tedge/mappers/c8y/flows/alarms.toml')), false, 'a disabled flow stays disabled');
      const flow = `${rootfs}/etc/tedge/mappers/c8y/flows/measurements.toml`;
      assert.match(chown.calls(), new RegExp(`^chown tedge:tedge ${flow} ${flow}\\.template$`, 'm'));
    });
  });
});
