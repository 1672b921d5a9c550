import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { parseInvocation } from '../../../src/cli/invocation';
import { UsageError } from '../../../src/sm-plugins/plugin-cli';
import { type FlowsCli, parseFlowsArgs } from '../../../src/sm-plugins/flow/args';
import { planFlowArchive } from '../../../src/sm-plugins/flow/flow-archive';
import { parseFlowModule } from '../../../src/sm-plugins/flow/flow-packages';
import { runFlowsPlugin } from '../../../src/sm-plugins/flow/main';
import { readTar } from '../../../src/sm-plugins/flow/tar-reader';

const HELLO_TOML = (version: string, greeting = 'hello') => `name = "hello-flow"
version = "${version}"
input.mqtt.topics = ["hello/in"]

[[steps]]
script = "main.js"
config.call = "\${params.call}"
config.greeting = "${greeting}"
`;
const HELLO_JS = `export function onMessage(message, context) {
  return [{ topic: "hello/out", payload: JSON.stringify({ text: context.config.greeting + " to " + context.config.call + "!" }) }];
}
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tedge-flow-plugin-'));
  mkdirSync(join(dir, 'config', 'mappers', 'local', 'flows'), { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Files of a package tree under `<dir>/src/<name>`: path → content (a content starting with '->' is a symbolic link). */
function tree(name: string, files: Record<string, string>): string {
  const root = join(dir, 'src', name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    if (content.startsWith('->')) symlinkSync(content.slice(2), join(root, path));
    else writeFileSync(join(root, path), content);
  }
  return root;
}

/** A real tarball, made by tar(1) as a flow author makes one: `tar czf pkg.tar.gz -C dir <members>`. */
function tarball(name: string, root: string, members: readonly string[] = ['.'], extra: readonly string[] = []): string {
  const out = join(dir, `${name}.tar.gz`);
  execFileSync('tar', ['czf', out, ...extra, '-C', root, ...members]);
  return out;
}

function hello(version: string, greeting = 'hello'): string {
  return tarball(`hello-${version}-${greeting}`, tree(`hello-${version}-${greeting}`, { 'flow.toml': HELLO_TOML(version, greeting), 'main.js': HELLO_JS, 'params.toml.template': 'call = "Bob"\n' }));
}

function plugin(...argv: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const env = { TEDGE_CONFIG_DIR: join(dir, 'config') };
  const code = runFlowsPlugin(argv, { out: (s) => (out += s), err: (s) => (err += s), env });
  return { code, out, err };
}

const flows = (...p: string[]): string => join(dir, 'config', 'mappers', 'local', 'flows', ...p);
/** What a failed install must leave: no staging directory in the mapper directory. */
const mapperDirEntries = (): string[] => readdirSync(join(dir, 'config', 'mappers', 'local')).sort();

describe('tedge-flows-plugin command line', () => {
  const ok: [string[], FlowsCli | 'help'][] = [
    [['list'], { operation: { op: 'list' } }],
    [['install', 'local/hello', '--module-version', '1.0.0', '--file', '/tmp/p'], { operation: { op: 'install', module: 'local/hello', version: '1.0.0', file: '/tmp/p' } }],
    [['install', '--file=/tmp/p', 'c8y/a/b', '-v', '2'], { operation: { op: 'install', module: 'c8y/a/b', version: '2', file: '/tmp/p' } }],
    [['remove', 'local/hello', '--module-version', '1'], { operation: { op: 'remove', module: 'local/hello', version: '1', keepParams: false } }],
    [['remove', 'local/hello', '--keep-params'], { operation: { op: 'remove', module: 'local/hello', keepParams: true } }],
    [['--config-dir', '/etc/x', 'update-list'], { operation: { op: 'update-list' }, configDir: '/etc/x' }],
    [['prepare'], { operation: { op: 'prepare' } }],
    [['finalize', '--config-dir', '/c'], { operation: { op: 'finalize' }, configDir: '/c' }],
    [['--help'], 'help'],
  ];
  for (const [argv, expected] of ok) it(argv.join(' '), () => assert.deepEqual(parseFlowsArgs(argv), expected));

  const usage: [string[], RegExp][] = [
    [[], /a command is required/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['install', 'local/hello'], /install needs --file/],
    [['install', '--file', 'p'], /exactly one module name/],
    [['remove', 'a/b', 'c/d'], /exactly one module name/],
    [['list', '--file', 'p'], /--file is not an option of list/],
    [['install', 'a/b', '--file', 'p', '--keep-params'], /--keep-params is not an option of install/],
    [['list', '--verbose'], /unknown option '--verbose'/],
    [['install', 'a/b', '--file'], /--file needs a value/],
  ];
  for (const [argv, error] of usage) it(`usage error: ${argv.join(' ') || '(nothing)'}`, () => assert.throws(() => parseFlowsArgs(argv), (e: unknown) => e instanceof UsageError && error.test(e.message)));

  it('a usage error exits 1 with the usage; update-list exits 1 (not supported); prepare and finalize do nothing', () => {
    const bad = plugin('frobnicate');
    assert.equal(bad.code, 1);
    assert.match(bad.err, /^error: unknown command 'frobnicate'\n\nUsage: tedge-flows-plugin/);
    assert.equal(plugin('update-list').code, 1);
    assert.deepEqual(plugin('prepare'), { code: 0, out: '', err: '' });
    assert.deepEqual(plugin('finalize'), { code: 0, out: '', err: '' });
  });

  it('is the tedge executable through `tedge run tedge-flows-plugin` and through /etc/tedge/sm-plugins/flow', () => {
    assert.deepEqual(parseInvocation(['/usr/bin/tedge', '/usr/bin/tedge', 'run', 'tedge-flows-plugin', 'list'], 'tedge'), { kind: 'component', component: 'tedge-flows-plugin', args: ['list'] });
    const links: Record<string, string> = { '/etc/tedge/sm-plugins/flow': '/usr/bin/tedge-flows-plugin', '/usr/bin/tedge-flows-plugin': 'tedge' };
    assert.deepEqual(parseInvocation(['/usr/bin/tedge', '/usr/bin/tedge', 'list'], '/etc/tedge/sm-plugins/flow', (p) => links[p]), { kind: 'component', component: 'tedge-flows-plugin', args: ['list'] });
  });
});

describe('flow module names (<mapper>/<flow>, no traversal)', () => {
  for (const [module, mapper, flow] of [
    ['local/hello', 'local', 'hello'],
    ['local/hello/world', 'local', 'hello/world'],
    ['c8y/a.a/.bb/c..c/dd..', 'c8y', 'a.a/.bb/c..c/dd..'],
  ] as const) {
    it(module, () => assert.deepEqual(parseFlowModule(module), { mapper, flow }));
  }
  for (const module of ['noslash', '../hello', './hello', '/etc/hello', 'local/../secret', 'local/hello/./world', 'local/hello/..', 'local//etc/passwd', 'local/hello/']) {
    it(`refuses ${module}`, () => assert.throws(() => parseFlowModule(module), /invalid module name/));
  }
});

describe('flow archives: what tar(1) makes, read without it', () => {
  it('reads ustar, GNU and pax long names, directories, modes and links', () => {
    const long = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(90)}.js`;
    const root = tree('long', { [long]: 'x', 'run.sh': 'echo', 'lib/link.js': '->../run.sh' });
    execFileSync('chmod', ['755', join(root, 'run.sh')]);
    for (const format of ['gnu', 'pax', 'ustar']) {
      const members = format === 'ustar' ? ['run.sh', 'lib'] : ['.'];
      const entries = readTar(execFileSync('tar', ['cf', '-', `--format=${format}`, '-C', root, ...members]));
      const byName = new Map(entries.map((e) => [e.name.replace(/^\.\//, ''), e]));
      assert.equal(byName.get('run.sh')?.type, 'file', format);
      assert.equal((byName.get('run.sh')?.mode ?? 0) & 0o777, 0o755, format);
      assert.equal(byName.get('run.sh')?.data.toString(), 'echo', format);
      assert.equal(byName.get('lib/link.js')?.type, 'symlink', format);
      assert.equal(byName.get('lib/link.js')?.linkName, '../run.sh', format);
      if (format !== 'ustar') assert.equal(byName.get(long)?.data.toString(), 'x', format);
    }
  });

  const refused: [string, () => Buffer, RegExp][] = [
    ['a member with ..', () => execFileSync('tar', ['czPf', '-', '-C', tree('dotdot', { 'in/flow.toml': 'x', 'evil.js': 'x' }), 'in/../evil.js']), /'in\/\.\.\/evil\.js' points outside the flow directory/],
    ['an absolute member', () => execFileSync('tar', ['czPf', '-', join(tree('abs', { 'abs.js': 'x' }), 'abs.js')]), /has an absolute path/],
    ['a link out of the directory', () => execFileSync('tar', ['czf', '-', '-C', tree('out', { 'flow.toml': 'x', 'passwd': '->../../../etc/passwd' }), '.']), /'\.\/passwd' is a link to '\.\.\/\.\.\/\.\.\/etc\/passwd', outside the flow directory/],
    ['an absolute link', () => execFileSync('tar', ['czf', '-', '-C', tree('abslink', { 'etc': '->/etc' }), 'etc']), /'etc' is a link to '\/etc', outside/],
    ['a member written through a link', () => execFileSync('tar', ['czf', '-', '-C', tree('through', { 'sub': '->.', 'x.js': 'x' }), 'sub', 'sub/x.js']), /'sub\/x\.js' would be written through the link 'sub'/],
    ['a hard link', () => {
      const root = tree('hard', { 'a.js': 'x' });
      linkSync(join(root, 'a.js'), join(root, 'b.js'));
      return execFileSync('tar', ['czf', '-', '-C', root, 'a.js', 'b.js']);
    }, /'b\.js' is a hard link/],
    ['a fifo', () => {
      const root = tree('fifo', { 'flow.toml': 'x' });
      execFileSync('mkfifo', [join(root, 'pipe')]);
      return execFileSync('tar', ['czf', '-', '-C', root, 'pipe']);
    }, /'pipe' is neither a file, a directory nor a symbolic link/],
    ['a cut gzip stream', () => execFileSync('tar', ['czf', '-', '-C', tree('cut', { 'flow.toml': 'x'.repeat(5000) }), '.']).subarray(0, 60), /not a gzip archive/],
    ['text that is no archive', () => gzipSync('just some text\n'), /: not a tar archive$/],
    ['a gzip bomb', () => gzipSync(Buffer.alloc(65 * 1024 * 1024)), /larger than 64 MiB once unpacked/],
  ];
  for (const [what, make, error] of refused) it(`refuses ${what}`, () => assert.throws(() => planFlowArchive(make()), error));

  it('takes ./ prefixes, the root entry and a plain (uncompressed) tar', () => {
    const root = tree('plain', { 'flow.toml': 'x', 'lib/a.js': 'y' });
    const planned = planFlowArchive(execFileSync('tar', ['cf', '-', '-C', root, '.']));
    assert.deepEqual(planned.map((e) => `${e.kind} ${e.path}`).sort(), ['directory lib', 'file flow.toml', 'file lib/a.js']);
  });
});

describe('tedge-flows-plugin install, list, remove (thin-edge layout: <config>/mappers/<mapper>/flows)', () => {
  it('installs a package as the flow directory, nested names too; list gives name<TAB>version of every flow file', () => {
    const r = plugin('install', 'local/hello-flow', '--module-version', '1.0.0', '--file', hello('1.0.0'));
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    assert.equal(readFileSync(flows('hello-flow', 'main.js'), 'utf8'), HELLO_JS);
    assert.equal(statSync(flows('hello-flow')).mode & 0o777, 0o755, 'readable by a mapper running as another user');
    assert.ok(existsSync(flows('hello-flow', 'params.toml.template')));
    assert.equal(plugin('install', 'local/nested/hello-flow', '--module-version', '1.0.0', '--file', hello('1.0.0')).code, 0);
    // A tree of flow files as thin-edge names them: flow.toml is its directory's flow, another .toml its own.
    mkdirSync(join(dir, 'config', 'mappers', 'c8y', 'flows', 'tree', 'layer1'), { recursive: true });
    const c8y = (...p: string[]): string => join(dir, 'config', 'mappers', 'c8y', 'flows', ...p);
    writeFileSync(c8y('tree', 'flow.toml'), 'version = "1.0.0"\n');
    writeFileSync(c8y('tree', 'other.toml'), 'version = "3.0.0"\n');
    writeFileSync(c8y('tree', 'layer1', 'flow.toml'), 'input.mqtt.topics = ["x"]\n');
    writeFileSync(c8y('tree', 'layer1', 'params.toml'), 'version = "9"\n');
    writeFileSync(c8y('tree', 'layer1', 'broken.toml'), 'version = \n');
    const list = plugin('list');
    assert.equal(list.code, 0);
    assert.equal(list.out, ['c8y/tree\t1.0.0', 'c8y/tree/layer1\t0.0.0', 'c8y/tree/layer1/broken\t0.0.0', 'c8y/tree/other\t3.0.0', 'local/hello-flow\t1.0.0', 'local/nested/hello-flow\t1.0.0', ''].join('\n'));
    assert.match(list.err, /^warn: cannot read the version of .*broken\.toml: invalid TOML/);
  });

  it('an update replaces the files but keeps the params.toml of the user; a version other than the file says is a warning', () => {
    assert.equal(plugin('install', 'local/hello-flow', '--file', hello('1.0.0')).code, 0);
    writeFileSync(flows('hello-flow', 'params.toml'), 'call = "Mary"\n');
    writeFileSync(flows('hello-flow', 'stale.js'), 'left by 1.0.0');
    const r = plugin('install', 'local/hello-flow', '--module-version', '2.1.0', '--file', hello('2.0.0', 'hi'));
    assert.equal(r.code, 0);
    assert.match(r.err, /^warn: the requested version 2\.1\.0 of local\/hello-flow is not the version its flow file says \(2\.0\.0\)/);
    assert.equal(readFileSync(flows('hello-flow', 'params.toml'), 'utf8'), 'call = "Mary"\n');
    assert.match(readFileSync(flows('hello-flow', 'flow.toml'), 'utf8'), /greeting = "hi"/);
    assert.equal(existsSync(flows('hello-flow', 'stale.js')), false);
    assert.equal(plugin('list').out, 'local/hello-flow\t2.0.0\n');
    assert.deepEqual(mapperDirEntries(), ['flows']);
  });

  const bad: [string, () => string, RegExp][] = [
    ['no flow file', () => tarball('noflow', tree('noflow', { 'main.js': HELLO_JS, 'params.toml.template': '' })), /^ERROR: invalid flow package: it contains no flow definition/],
    ['a flow file that is no TOML', () => tarball('badtoml', tree('badtoml', { 'flow.toml': '[[steps', 'main.js': HELLO_JS })), /^ERROR: invalid flow package: invalid TOML in flow\.toml \(line 1/],
    ['a step script that is missing', () => tarball('noscript', tree('noscript', { 'flow.toml': HELLO_TOML('3.0.0'), 'params.toml.template': 'call = "Bob"\n' })), /^ERROR: invalid flow package: ENOENT: no such file or directory, open 'main\.js'/],
    ['a link escaping the directory', () => tarball('escape', tree('escape', { 'flow.toml': HELLO_TOML('3.0.0'), 'main.js': '->../../../../etc/passwd' })), /^ERROR: the archive member '\.\/main\.js' is a link to '.*etc\/passwd', outside the flow directory/],
    // Each link stays inside on its own; l2 through l1 does not (and l1, a loop, is refused first).
    ['a chain of links that escapes', () => tarball('chain', tree('chain', { 'flow.toml': HELLO_TOML('3.0.0'), 'main.js': HELLO_JS, 'd/l1': '->..', 'd/l2': '->l1/..' })), /^ERROR: the archive member 'd\/l1' is a link to the directory '\.\.' \(only links to files are supported\)/],
    ['a link to a file that is not in it', () => tarball('dangling', tree('dangling', { 'flow.toml': HELLO_TOML('3.0.0'), 'main.js': '->lib/main.js' })), /^ERROR: the archive member 'main\.js' is a link to 'lib\/main\.js', which is not in the archive/],
    ['a file that is no archive', () => {
      writeFileSync(join(dir, 'junk'), 'x'.repeat(2000));
      return join(dir, 'junk');
    }, /^ERROR: not a tar archive \(bad checksum field\)\n$/],
    ['a file that is not there', () => join(dir, 'missing.tar.gz'), /^ERROR: cannot read .*missing\.tar\.gz: ENOENT/],
  ];
  for (const [what, make, error] of bad) {
    it(`a package with ${what}: exit 2, one ERROR line, the installed version untouched, nothing left behind`, () => {
      assert.equal(plugin('install', 'local/hello-flow', '--file', hello('1.0.0')).code, 0);
      const before = readFileSync(flows('hello-flow', 'flow.toml'), 'utf8');
      const r = plugin('install', 'local/hello-flow', '--module-version', '3.0.0', '--file', make());
      assert.equal(r.code, 2);
      assert.match(r.err, error);
      assert.equal(r.err.trimEnd().split('\n').length, 1, r.err);
      assert.equal(readFileSync(flows('hello-flow', 'flow.toml'), 'utf8'), before);
      assert.deepEqual(readdirSync(flows('hello-flow')).sort(), ['flow.toml', 'main.js', 'params.toml.template']);
      assert.deepEqual(mapperDirEntries(), ['flows']);
      assert.equal(existsSync(join(dir, 'etc')), false);
    });
  }

  it('refuses a module name that leaves the mappers directory, and a mapper that does not exist', () => {
    const pkg = hello('1.0.0');
    const up = plugin('install', 'local/../../escape', '--file', pkg);
    assert.equal(up.code, 2);
    assert.match(up.err, /^ERROR: invalid module name 'local\/\.\.\/\.\.\/escape'/);
    const none = plugin('install', 'nomapper/hello', '--file', pkg);
    assert.equal(none.code, 2);
    assert.match(none.err, /^ERROR: no mapper 'nomapper': .*mappers\/nomapper is not a directory\n$/);
    assert.deepEqual(readdirSync(join(dir, 'config', 'mappers')), ['local']);
  });

  it('remove: the flow directory, else the <flow>.toml file, else nothing; params.toml kept with --keep-params or flows.params.keep_on_delete', () => {
    assert.equal(plugin('install', 'local/hello-flow', '--file', hello('1.0.0')).code, 0);
    assert.equal(plugin('install', 'local/nested/deep', '--file', hello('1.0.0')).code, 0);
    writeFileSync(flows('single.toml'), 'version = "1"\n');
    writeFileSync(flows('hello-flow', 'params.toml'), 'call = "Mary"\n');

    assert.equal(plugin('remove', 'local/nested/deep').code, 0);
    assert.equal(existsSync(flows('nested', 'deep')), false);
    assert.equal(plugin('remove', 'local/single', '--module-version', '1').code, 0);
    assert.equal(existsSync(flows('single.toml')), false);
    assert.deepEqual(plugin('remove', 'local/never-installed').code, 0);

    assert.equal(plugin('remove', 'local/hello-flow', '--keep-params').code, 0);
    assert.deepEqual(readdirSync(flows('hello-flow')), ['params.toml']);
    assert.equal(plugin('list').out, '');

    // The config key, as an env override (what `tedge config set flows.params.keep_on_delete true` writes).
    assert.equal(plugin('install', 'local/hello-flow', '--file', hello('1.0.0')).code, 0);
    let err = '';
    const code = runFlowsPlugin(['remove', 'local/hello-flow'], { out: () => {}, err: (s) => (err += s), env: { TEDGE_CONFIG_DIR: join(dir, 'config'), TEDGE_FLOWS_PARAMS_KEEP_ON_DELETE: 'true' } });
    assert.equal(code, 0, err);
    assert.deepEqual(readdirSync(flows('hello-flow')), ['params.toml']);
    assert.equal(readFileSync(flows('hello-flow', 'params.toml'), 'utf8'), 'call = "Mary"\n');
    assert.equal(plugin('remove', 'local/hello-flow').code, 0);
    assert.equal(existsSync(flows('hello-flow')), false);
  });
});
