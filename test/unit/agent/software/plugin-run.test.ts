import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { applyUpdates } from '../../../../src/agent/operations/software/apply';
import { FailureReport } from '../../../../src/agent/operations/software/failures';
import { pluginArgv, runPlugin } from '../../../../src/agent/operations/software/plugin-exec';
import { type PluginSettings, listModules, pluginFiles } from '../../../../src/agent/operations/software/plugins';

const dir = mkdtempSync(join(tmpdir(), 'tedge-sm-run-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

const never = new AbortController().signal;

/** Running: neither gone nor a zombie (in a container nobody may reap an orphan). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
const settings = (over: Partial<PluginSettings> = {}): PluginSettings => ({
  dir,
  sudo: false,
  timeoutMs: 10_000,
  filter: { maxPackages: 0 },
  defaultType: undefined,
  tmpDir: dir,
  ...over,
});

describe('running a plugin', () => {
  it('passes argv unchanged (no shell) and captures stdout, stderr and the exit code', async () => {
    const p = script('echoer', 'printf "%s|" "$@"; echo oops >&2; exit 3');
    const r = await runPlugin({ path: p, args: ['install', '$(touch x)', 'a b;c'], timeoutMs: 5000, signal: never, sudo: false });
    assert.equal(r.stdout, 'install|$(touch x)|a b;c|');
    assert.equal(r.stderr, 'oops\n');
    assert.deepEqual(r.exit, { kind: 'exited', code: 3 });
  });

  it('writes stdin and closes it', async () => {
    const p = script('cat-er', 'cat');
    const r = await runPlugin({ path: p, args: [], stdin: 'install\ta\t1\t\n', timeoutMs: 5000, signal: never, sudo: false });
    assert.equal(r.stdout, 'install\ta\t1\t\n');
  });

  it('kills a plugin that hangs, with what it started, after the timeout', async () => {
    const marker = join(dir, 'sleeper.pid');
    const p = script('sleeper', `sleep 30 & echo $! > ${marker}; wait`);
    const started = Date.now();
    const r = await runPlugin({ path: p, args: ['list'], timeoutMs: 300, signal: never, sudo: false });
    assert.deepEqual(r.exit, { kind: 'timeout', afterMs: 300 });
    assert.ok(Date.now() - started < 5000);
    const pid = Number(readFileSync(marker, 'utf8'));
    await new Promise((res) => setTimeout(res, 100));
    assert.ok(!alive(pid), 'the grandchild sleep is gone too');
  });

  it('stops when the run is aborted', async () => {
    const p = script('forever', 'sleep 30');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const r = await runPlugin({ path: p, args: [], timeoutMs: 10_000, signal: ac.signal, sudo: false });
    assert.deepEqual(r.exit, { kind: 'aborted' });
  });

  it('reports a plugin that cannot be started', async () => {
    const r = await runPlugin({ path: join(dir, 'missing'), args: [], timeoutMs: 1000, signal: never, sudo: false });
    assert.equal(r.exit.kind, 'spawn-error');
  });

  it('goes through sudo -n only when enabled and sudo exists', () => {
    assert.deepEqual(pluginArgv({ path: '/p', args: ['list'], sudo: true }, '/usr/bin/sudo'), ['/usr/bin/sudo', '-n', '/p', 'list']);
    assert.deepEqual(pluginArgv({ path: '/p', args: ['list'], sudo: true }, undefined), ['/p', 'list']);
    assert.deepEqual(pluginArgv({ path: '/p', args: ['list'], sudo: false }, '/usr/bin/sudo'), ['/p', 'list']);
  });
});

describe('plugins of a directory', () => {
  it('are the executables, by name; list output parsed and filtered', async () => {
    const sub = mkdtempSync(join(dir, 'plugins-'));
    writeFileSync(join(sub, 'zeta'), '#!/bin/sh\nprintf "z1\\t1\\nlibz\\t2\\n"\n', { mode: 0o755 });
    writeFileSync(join(sub, 'alpha'), '#!/bin/sh\necho a\n', { mode: 0o755 });
    writeFileSync(join(sub, 'README'), 'not a plugin', { mode: 0o644 });
    writeFileSync(join(sub, '.hidden'), '#!/bin/sh\n', { mode: 0o755 });
    assert.deepEqual(pluginFiles(sub).map((p) => p.type), ['alpha', 'zeta']);
    const zeta = pluginFiles(sub)[1];
    assert.ok(zeta);
    assert.deepEqual(await listModules(zeta, settings({ filter: { exclude: /^lib/, maxPackages: 0 } }), never), { ok: true, modules: [{ name: 'z1', version: '1' }] });
    assert.deepEqual(pluginFiles(join(dir, 'nope')), []);
  });

  it('a failing list is an error naming the plugin and its stderr', async () => {
    const p = script('broken', 'echo "cannot read db" >&2; exit 2');
    const r = await listModules({ type: 'broken', path: p }, settings(), never);
    assert.deepEqual(r, { ok: false, error: 'broken list: exit status 2 (failure): cannot read db' });
  });
});

describe('applying updates with one plugin', () => {
  /** A plugin that records each call (argv and stdin) in a log, answering update-list with `$1`. */
  function recorder(name: string, updateListExit: number, failOn = ''): { path: string; calls: () => string[] } {
    const log = join(dir, `${name}.calls`);
    const path = script(
      name,
      `echo "$*" >> ${log}
case "$1" in
  update-list) while IFS= read -r l; do echo "stdin $l" >> ${log}; done; exit ${updateListExit} ;;
  install|remove) if [ "$2" = "${failOn}" ]; then echo "no such package $2" >&2; exit 2; fi ;;
esac
exit 0`,
    );
    return { path, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trimEnd().split('\n') : []) };
  }

  const deps = (over: Partial<PluginSettings> = {}) => ({
    settings: settings(over),
    signal: never,
    log: () => undefined,
    download: async (): Promise<void> => {
      throw new Error('no download expected');
    },
  });

  it('prepare, update-list with every module, finalize', async () => {
    const r = recorder('ul', 0);
    const report = new FailureReport();
    await applyUpdates({ type: 'ul', path: r.path }, [{ action: 'install', name: 'a', version: '1' }, { action: 'remove', name: 'b' }], report, deps());
    assert.equal(report.empty, true);
    assert.deepEqual(r.calls(), ['prepare', 'update-list', 'stdin install\ta\t1\t', 'stdin remove\tb\t\t', 'finalize']);
  });

  it('update-list exit 1: one call per module; a failing module reported, the others done', async () => {
    const r = recorder('fb', 1, 'bad');
    const report = new FailureReport();
    await applyUpdates({ type: 'fb', path: r.path }, [{ action: 'install', name: 'a', version: '1' }, { action: 'install', name: 'bad' }, { action: 'remove', name: 'c', version: '2' }], report, deps());
    assert.deepEqual(r.calls().filter((c) => !c.startsWith('stdin')), ['prepare', 'update-list', 'install a --module-version 1', 'install bad', 'remove c --module-version 2', 'finalize']);
    assert.deepEqual(report.failures(), [{ type: 'fb', modules: [{ name: 'bad', action: 'install', reason: 'Failed to install bad: exit status 2 (failure): no such package bad' }] }]);
  });

  it('update-list failing (exit 2): every module of it reported; finalize still runs', async () => {
    const r = recorder('ul2', 2);
    const report = new FailureReport();
    await applyUpdates({ type: 'ul2', path: r.path }, [{ action: 'install', name: 'a' }], report, deps());
    assert.match(report.reason() ?? '', /Failed to execute updates for ul2: exit status 2/);
    assert.deepEqual(r.calls().at(-1), 'finalize');
  });

  it('a failing prepare cancels the rest', async () => {
    const p = script('noprep', `echo "$1" >> ${join(dir, 'noprep.calls')}; [ "$1" = prepare ] && { echo locked >&2; exit 3; }; exit 0`);
    const report = new FailureReport();
    await applyUpdates({ type: 'noprep', path: p }, [{ action: 'install', name: 'a' }], report, deps());
    assert.equal(readFileSync(join(dir, 'noprep.calls'), 'utf8'), 'prepare\n');
    assert.equal(report.reason(), 'Failed to prepare updates for noprep: exit status 3 (retry): locked');
  });

  it('downloads a URL first, passes the file, removes it after', async () => {
    const r = recorder('dl', 1);
    const report = new FailureReport();
    let seen = '';
    await applyUpdates({ type: 'dl', path: r.path }, [{ action: 'install', name: 'pkg', version: '2', url: 'http://h/pkg.deb' }], report, {
      ...deps(),
      download: async (url, dest) => {
        seen = `${url} -> ${dest}`;
        writeFileSync(dest, 'deb');
      },
    });
    assert.equal(report.empty, true, report.reason());
    assert.equal(seen, `http://h/pkg.deb -> ${join(dir, 'pkg_2')}`);
    assert.ok(r.calls().includes(`install pkg --module-version 2 --file ${join(dir, 'pkg_2')}`));
    assert.equal(existsSync(join(dir, 'pkg_2')), false);
  });

  it('a failed download fails its module and skips the updates', async () => {
    const r = recorder('dlf', 0);
    const report = new FailureReport();
    await applyUpdates({ type: 'dlf', path: r.path }, [{ action: 'install', name: 'pkg', url: 'http://h/x' }], report, {
      ...deps(),
      download: async () => {
        throw new Error('HTTP 404');
      },
    });
    assert.deepEqual(r.calls(), ['prepare', 'finalize']);
    assert.deepEqual(report.failures(), [{ type: 'dlf', modules: [{ name: 'pkg', url: 'http://h/x', action: 'install', reason: 'Failed to download http://h/x for pkg: HTTP 404' }] }]);
  });
});
