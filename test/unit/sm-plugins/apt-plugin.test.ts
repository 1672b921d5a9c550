import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { type Invocation, parseInvocation } from '../../../src/cli/invocation';
import { type AptCli, UsageError, parseAptArgs } from '../../../src/sm-plugins/apt/args';
import {
  aptInstallArgv,
  aptRemoveArgv,
  checkDebFields,
  installedPackages,
  packageSpec,
  parseUpdateLines,
  removalTarget,
} from '../../../src/sm-plugins/apt/apt-model';
import { type Io, runApt } from '../../../src/sm-plugins/apt/main';

describe('tedge-apt-plugin command line', () => {
  const ok: [string[], AptCli | 'help'][] = [
    [['list'], { operation: { op: 'list' } }],
    [['list', '--name', 'tedge.*', '-m', 'thin'], { operation: { op: 'list', name: 'tedge.*', maintainer: 'thin' } }],
    [['install', 'rolldice'], { operation: { op: 'install', module: 'rolldice' } }],
    [['install', 'rolldice', '--module-version', '1.16-1', '--file', '/tmp/r'], { operation: { op: 'install', module: 'rolldice', version: '1.16-1', file: '/tmp/r' } }],
    [['install', '--file=/tmp/r', 'rolldice', '-v', '2'], { operation: { op: 'install', module: 'rolldice', version: '2', file: '/tmp/r' } }],
    [['remove', 'rolldice', '--module-version', '1'], { operation: { op: 'remove', module: 'rolldice', version: '1' } }],
    [['--config-dir', '/etc/x', 'update-list'], { operation: { op: 'update-list' }, configDir: '/etc/x' }],
    [['prepare'], { operation: { op: 'prepare' } }],
    [['finalize', '--config-dir', '/c'], { operation: { op: 'finalize' }, configDir: '/c' }],
    [['--help'], 'help'],
    [['install', '--help'], 'help'],
  ];
  for (const [argv, expected] of ok) it(argv.join(' '), () => assert.deepEqual(parseAptArgs(argv), expected));

  const usage: [string[], RegExp][] = [
    [[], /a command is required/],
    [['upgrade'], /unknown command 'upgrade'/],
    [['install'], /exactly one module name/],
    [['install', 'a', 'b'], /exactly one module name/],
    [['remove', 'a', '--file', '/x'], /unknown option '--file' for remove/],
    [['install', 'a', '--module-version'], /--module-version needs a value/],
    [['list', 'x'], /list takes no arguments/],
    [['update-list', 'x'], /takes no arguments/],
    [['--verbose', 'list'], /unknown option '--verbose'/],
  ];
  for (const [argv, error] of usage) it(`usage error: ${argv.join(' ') || '(nothing)'}`, () => assert.throws(() => parseAptArgs(argv), (e: unknown) => e instanceof UsageError && error.test(e.message)));

  it('exits 1 on a usage error (the protocol says so: update-list unsupported reads the same)', () => {
    let err = '';
    const io: Io = { out: () => undefined, err: (s) => (err += s), env: {}, stdin: () => '' };
    assert.equal(runApt(['frobnicate'], io), 1);
    assert.match(err, /unknown command 'frobnicate'/);
    assert.equal(runApt(['--help'], { ...io, out: () => undefined }), 0);
  });
});

describe('tedge-apt-plugin model', () => {
  const dpkg = [
    'zsh\t5.8-6+deb11u1\tDebian Zsh Maintainers <pkg-zsh-devel@lists.alioth.debian.org>\tinstall ok installed',
    'tedge\t1.0.0\tthin-edge.io team <info@thin-edge.io>\tinstall ok installed',
    'tedge-old\t0.9\tthin-edge.io team <info@thin-edge.io>\tdeinstall ok config-files',
    'c8y-tool\t2\tSomeone <s@example.org>\tinstall ok installed',
    'half\t1\tX <x@example.org>\tinstall reinstreq half-installed',
    '',
  ].join('\n');

  it('lists installed packages only, as name<TAB>version', () => assert.deepEqual(installedPackages(dpkg), ['zsh\t5.8-6+deb11u1', 'tedge\t1.0.0', 'c8y-tool\t2']));
  it('filters by name regex from the start of the name', () => assert.deepEqual(installedPackages(dpkg, { name: 'tedge.*' }), ['tedge\t1.0.0']));
  it('filters by maintainer', () => assert.deepEqual(installedPackages(dpkg, { maintainer: 'Debian' }), ['zsh\t5.8-6+deb11u1']));
  it('name or maintainer', () => assert.deepEqual(installedPackages(dpkg, { name: 'c8y', maintainer: 'thin-edge' }), ['tedge\t1.0.0', 'c8y-tool\t2']));

  it('parses update-list input with empty fields', () => {
    assert.deepEqual(parseUpdateLines('install\tname1\tversion1\ninstall\tname2\t\t/tmp/path2\nremove\tname3\tversion3\nremove\tname4\t\t\n\n'), [
      { action: 'install', name: 'name1', version: 'version1' },
      { action: 'install', name: 'name2', path: '/tmp/path2' },
      { action: 'remove', name: 'name3', version: 'version3' },
      { action: 'remove', name: 'name4' },
    ]);
    assert.throws(() => parseUpdateLines('upgrade\tx\n'), /line 1: unknown action/);
    assert.throws(() => parseUpdateLines('install\t\t1\n'), /line 1: no module name/);
  });

  it('builds apt-get calls as thin-edge does', () => {
    assert.equal(packageSpec('rolldice', undefined), 'rolldice');
    assert.equal(packageSpec('rolldice', '1.16-1'), 'rolldice=1.16-1');
    assert.equal(packageSpec('rolldice', 'latest'), 'rolldice');
    assert.equal(removalTarget('rolldice'), 'rolldice-');
    assert.deepEqual(aptInstallArgv(['a=1', '/tmp/b.deb', 'c-'], 'keepold'), [
      'apt-get', '--quiet', '--yes', '-o', 'DPkg::Options::=--force-confold', 'install', '--allow-downgrades', '--no-install-recommends', 'a=1', '/tmp/b.deb', 'c-',
    ]);
    assert.ok(aptInstallArgv([], 'keepnew').includes('DPkg::Options::=--force-confnew'));
    assert.deepEqual(aptRemoveArgv('a=1'), ['apt-get', '--quiet', '--yes', 'remove', 'a=1']);
  });

  it('checks a .deb against the requested name and version', () => {
    const fields = 'Package: tedge-test-a\nVersion: 1:1.0-2\n';
    checkDebFields(fields, 'tedge-test-a', undefined, 'f');
    checkDebFields(fields, 'tedge-test-a', '1:1.0-2', 'f');
    checkDebFields(fields, 'tedge-test-a', 'latest', 'f');
    assert.throws(() => checkDebFields(fields, 'other', undefined, 'f'), /f is package 'tedge-test-a', not 'other'/);
    assert.throws(() => checkDebFields(fields, 'tedge-test-a', '2', 'f'), /version '1:1.0-2', not '2'/);
  });

  it('lists the packages of this machine through dpkg-query', { skip: spawnSync('dpkg-query', ['--version']).status === 0 ? false : 'no dpkg-query' }, () => {
    let out = '';
    const io: Io = { out: (s) => (out += s), err: () => undefined, env: { ...process.env, TEDGE_CONFIG_DIR: '/nonexistent-tedge-config' }, stdin: () => '' };
    assert.equal(runApt(['list', '--name', 'dpkg$'], io), 0);
    assert.match(out, /^dpkg\t\S+\n$/);
  });
});

describe('the apt plugin in the multi-call binary', () => {
  const links: Record<string, string> = { '/etc/tedge/sm-plugins/apt': '/usr/bin/tedge-apt-plugin', '/usr/bin/tedge-apt-plugin': 'tedge', '/etc/tedge/sm-plugins/other': '/usr/bin/tedge' };
  const readLink = (p: string): string | undefined => links[p];
  const cases: [string, string[], string, Invocation][] = [
    ['tedge apt-plugin list', ['/usr/bin/tedge', '/usr/bin/tedge', 'apt-plugin', 'list'], 'tedge', { kind: 'component', component: 'tedge-apt-plugin', args: ['list'] }],
    ['a link named tedge-apt-plugin', ['/usr/bin/tedge', '/usr/bin/tedge', 'list'], '/usr/bin/tedge-apt-plugin', { kind: 'component', component: 'tedge-apt-plugin', args: ['list'] }],
    ['sm-plugins/apt linked to tedge-apt-plugin', ['/usr/bin/tedge', '/usr/bin/tedge', 'install', 'x'], '/etc/tedge/sm-plugins/apt', { kind: 'component', component: 'tedge-apt-plugin', args: ['install', 'x'] }],
    ['a link straight to tedge is the CLI', ['/usr/bin/tedge', '/usr/bin/tedge', 'list'], '/etc/tedge/sm-plugins/other', { kind: 'tedge', args: ['list'] }],
  ];
  for (const [name, argv, argv0, expected] of cases) it(name, () => assert.deepEqual(parseInvocation(argv, argv0, readLink), expected));
});
