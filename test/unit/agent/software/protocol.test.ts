import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailureReport } from '../../../../src/agent/operations/software/failures';
import { type SoftwareModule, configRegex, filterModules, parseModuleList } from '../../../../src/agent/operations/software/modules';
import { type PluginExit, describeExit, moduleArgs, renderUpdateList, verdictOf } from '../../../../src/agent/operations/software/protocol';
import { downloadPath } from '../../../../src/agent/operations/software/apply';
import { SoftwareSerial } from '../../../../src/agent/operations/software/serial';

describe('sm-plugin list output (TSV)', () => {
  const table: [string, string, SoftwareModule[]][] = [
    ['name and version', 'collectd\t5.12\nmosquitto\t2.0.11\n', [{ name: 'collectd', version: '5.12' }, { name: 'mosquitto', version: '2.0.11' }]],
    ['no trailing newline', 'a\t1', [{ name: 'a', version: '1' }]],
    ['version optional, tab optional', 'a\nb\t\nc\t3\n', [{ name: 'a' }, { name: 'b' }, { name: 'c', version: '3' }]],
    ['CRLF and blank lines', 'a\t1\r\n\r\n\nb\t2\r\n', [{ name: 'a', version: '1' }, { name: 'b', version: '2' }]],
    ['spaces stay in names and versions', 'my app\t1.0 beta\n', [{ name: 'my app', version: '1.0 beta' }]],
    ['empty output', '', []],
    ['extra columns ignored', 'a\t1\tmaintainer\n', [{ name: 'a', version: '1' }]],
  ];
  for (const [what, stdout, expected] of table) it(what, () => assert.deepEqual(parseModuleList(stdout), expected));

  it('refuses output that is not text', () => {
    assert.throws(() => parseModuleList(Buffer.from([0x61, 0x09, 0xff, 0xfe, 0x0a]).toString('utf8')), /not UTF-8/);
    assert.throws(() => parseModuleList('a\u0000b\t1\n'), /line 1 .*control characters/);
  });

  it('refuses a line without a name', () => {
    assert.throws(() => parseModuleList('a\t1\n\t2\n'), /line 2 .*no module name/);
  });
});

describe('software.plugin.include / exclude / max_packages (thin-edge rule)', () => {
  const all: SoftwareModule[] = ['tedge', 'c8y-remote', 'libssl', 'glibc', 'nodered', 'lib-tedge'].map((name) => ({ name, version: '1' }));
  const names = (include: string | undefined, exclude: string | undefined, max = 0): string[] =>
    filterModules(all, { include: configRegex('i', include), exclude: configRegex('e', exclude), maxPackages: max }).map((m) => m.name);

  const table: [string, string | undefined, string | undefined, number, string[]][] = [
    ['no filter: everything', undefined, undefined, 0, ['tedge', 'c8y-remote', 'libssl', 'glibc', 'nodered', 'lib-tedge']],
    ['exclude only', undefined, '^(glibc|lib)', 0, ['tedge', 'c8y-remote', 'nodered']],
    ['include only is an allow-list', '^(tedge|c8y)', undefined, 0, ['tedge', 'c8y-remote']],
    ['include wins over exclude', '^lib-tedge$', '^(glibc|lib)', 0, ['tedge', 'c8y-remote', 'nodered', 'lib-tedge']],
    ['unanchored regex matches anywhere', undefined, 'ssl', 0, ['tedge', 'c8y-remote', 'glibc', 'nodered', 'lib-tedge']],
    ['max_packages after the filter', undefined, '^lib', 2, ['tedge', 'c8y-remote']],
    ['max_packages larger than the list', undefined, undefined, 100, ['tedge', 'c8y-remote', 'libssl', 'glibc', 'nodered', 'lib-tedge']],
    ['empty regex text is no filter', '', '', 1, ['tedge']],
  ];
  for (const [what, include, exclude, max, expected] of table) it(what, () => assert.deepEqual(names(include, exclude, max), expected));

  it('names the key of an invalid regex', () => {
    assert.throws(() => configRegex('software.plugin.exclude', '(unclosed'), /software.plugin.exclude is not a valid regular expression/);
  });
});

describe('sm-plugin calls', () => {
  it('renders update-list lines with empty fields kept', () => {
    assert.equal(
      renderUpdateList([
        { action: 'install', name: 'name1', version: 'version1' },
        { action: 'install', name: 'name2', file: '/tmp/path2' },
        { action: 'install', name: 'name5', version: '5', file: '/tmp/p5', url: 'http://x/5' },
        { action: 'remove', name: 'name 3', version: 'version3' },
        { action: 'remove', name: 'name4' },
      ]),
      'install\tname1\tversion1\t\ninstall\tname2\t\t/tmp/path2\ninstall\tname5\t5\t/tmp/p5\nremove\tname 3\tversion3\t\nremove\tname4\t\t\n',
    );
    assert.equal(renderUpdateList([]), '');
  });

  const args: [string, Parameters<typeof moduleArgs>[0], string[]][] = [
    ['install by name', { action: 'install', name: 'a' }, ['install', 'a']],
    ['install a version', { action: 'install', name: 'a', version: '1.0' }, ['install', 'a', '--module-version', '1.0']],
    ['install a file', { action: 'install', name: 'a', version: '1.0', file: '/tmp/a_1.0' }, ['install', 'a', '--module-version', '1.0', '--file', '/tmp/a_1.0']],
    ['remove', { action: 'remove', name: 'a' }, ['remove', 'a']],
    ['remove a version, never a file', { action: 'remove', name: 'a', version: '2', file: '/x' }, ['remove', 'a', '--module-version', '2']],
  ];
  for (const [what, update, expected] of args) it(`fallback argv: ${what}`, () => assert.deepEqual(moduleArgs(update), expected));

  const exits: [PluginExit, string, RegExp][] = [
    [{ kind: 'exited', code: 0 }, 'success', /exit status 0/],
    [{ kind: 'exited', code: 1 }, 'usage', /exit status 1 \(usage\)/],
    [{ kind: 'exited', code: 2 }, 'failure', /exit status 2 \(failure\)/],
    [{ kind: 'exited', code: 3 }, 'retry', /exit status 3 \(retry\)/],
    [{ kind: 'exited', code: 4 }, 'timeout', /exit status 4 \(timeout\)/],
    [{ kind: 'exited', code: 5 }, 'failure', /exit status 5 \(failure\)/],
    [{ kind: 'exited', code: 127 }, 'failure', /exit status 127/],
    [{ kind: 'timeout', afterMs: 300_000 }, 'timeout', /timed out after 300s/],
    [{ kind: 'signalled', signal: 'SIGSEGV' }, 'failure', /killed by SIGSEGV/],
    [{ kind: 'aborted' }, 'failure', /agent is stopping/],
    [{ kind: 'spawn-error', message: 'spawn /x EACCES' }, 'failure', /cannot be run: spawn \/x EACCES/],
  ];
  for (const [exit, verdict, text] of exits) {
    it(`exit ${JSON.stringify(exit)} is ${verdict}`, () => {
      assert.equal(verdictOf(exit), verdict);
      assert.match(describeExit(exit, ''), text);
    });
  }

  it('appends stderr, trimmed and bounded to its tail', () => {
    assert.equal(describeExit({ kind: 'exited', code: 2 }, '  E: no such package\n'), 'exit status 2 (failure): E: no such package');
    const long = `${'x'.repeat(5000)}END`;
    const text = describeExit({ kind: 'exited', code: 2 }, long);
    assert.ok(text.length < 2100 && text.endsWith('END'));
  });

  it('names downloads as thin-edge does', () => {
    assert.equal(downloadPath('/tmp', 'collectd', '5.12'), '/tmp/collectd_5.12');
    assert.equal(downloadPath('/tmp', 'a/../b c', undefined), '/tmp/a%2f..%2fb%20c');
  });
});

describe('failure aggregation', () => {
  it('reports nothing when nothing failed', () => {
    const r = new FailureReport();
    assert.equal(r.empty, true);
    assert.equal(r.reason(), undefined);
    assert.deepEqual(r.failures(), []);
  });

  it('one error is the reason; its modules carry it', () => {
    const r = new FailureReport();
    r.add('apt', 'Failed to install x 1: exit status 2 (failure): E: nope', [{ action: 'install', name: 'x', version: '1', url: 'http://h/x' }]);
    assert.equal(r.reason(), 'Failed to install x 1: exit status 2 (failure): E: nope');
    assert.deepEqual(r.failures(), [
      { type: 'apt', modules: [{ name: 'x', version: '1', url: 'http://h/x', action: 'install', reason: 'Failed to install x 1: exit status 2 (failure): E: nope' }] },
    ]);
  });

  it('several errors are counted and each named, per type, in order', () => {
    const r = new FailureReport();
    r.add('apt', 'a failed', [{ action: 'remove', name: 'a' }]);
    r.add('docker', 'prepare failed');
    r.add('apt', 'finalize failed');
    assert.equal(r.reason(), '3 errors: apt: a failed; apt: finalize failed; docker: prepare failed');
    assert.deepEqual(r.failures(), [
      { type: 'apt', modules: [{ name: 'a', action: 'remove', reason: 'a failed' }] },
      { type: 'docker', modules: [] },
    ]);
  });
});

describe('software operations take turns', () => {
  it('runs them one after the other, in order, a failure not blocking the next', async () => {
    const serial = new SoftwareSerial();
    const events: string[] = [];
    let release: () => void = () => undefined;
    const first = serial.run(async () => {
      events.push('first start');
      await new Promise<void>((r) => (release = r));
      events.push('first end');
      throw new Error('boom');
    });
    const second = serial.run(
      async () => {
        events.push('second');
        return 2;
      },
      () => events.push('second waits'),
    );
    await new Promise((r) => setImmediate(r));
    release();
    await assert.rejects(first, /boom/);
    assert.equal(await second, 2);
    assert.deepEqual(events, ['second waits', 'first start', 'first end', 'second']);
  });
});
