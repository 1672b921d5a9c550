import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultConfigToml, parseConfigToml } from '../../../../src/agent/operations/config/config-toml';
import { getArgs } from '../../../../src/agent/operations/log/external-log-plugin';
import { selectLogFiles } from '../../../../src/agent/operations/log/file-log-plugin';
import { expandGlob, segmentRegExp } from '../../../../src/agent/operations/log/glob';
import { journalctlArgs, parseUnits } from '../../../../src/agent/operations/log/journald-log-plugin';
import { LineFilter, dateSeconds, parseLogRequest } from '../../../../src/agent/operations/log/log-request';
import { defaultLogToml, filterTypes, parseLogToml } from '../../../../src/agent/operations/log/log-toml';
import { fileTransferUrl } from '../../../../src/agent/operations/plugin-support/file-transfer-url';
import { scriptOutput } from '../../../../src/agent/operations/plugin-support/plugin-call';
import { advertisedType, splitType } from '../../../../src/agent/operations/plugin-support/plugin-dirs';

const SRC = '/etc/tedge/plugins/tedge-configuration-plugin.toml';

describe('tedge-configuration-plugin.toml', () => {
  it('parses entries: type defaults to path, mode as integer or octal text, the self type first', () => {
    const t = parseConfigToml(
      `files = [
        { path = '/etc/mosquitto/mosquitto.conf', type = 'mosquitto', user = 'mosquitto', group = 'mosquitto', mode = 0o644, service = 'mosquitto' },
        { path = '/etc/collectd.conf', mode = "600" },
      ]`,
      SRC,
    );
    assert.deepEqual(t.errors, []);
    assert.deepEqual(t.entries, [
      { type: 'tedge-configuration-plugin', path: SRC },
      { type: 'mosquitto', path: '/etc/mosquitto/mosquitto.conf', user: 'mosquitto', group: 'mosquitto', mode: 0o644, service: 'mosquitto' },
      { type: '/etc/collectd.conf', path: '/etc/collectd.conf', mode: 0o600 },
    ]);
  });

  it('keeps the good entries of a file with bad ones, naming each bad one', () => {
    const table: [string, RegExp][] = [
      [`{ type = 'a' }`, /files\[0\]: 'path' must be a non-empty string/],
      [`{ path = 'relative.conf' }`, /'path' must be absolute/],
      [`{ path = '/x', type = 'a+b' }`, /contains '\+' or '#'/],
      [`{ path = '/x', type = 'a::b' }`, /reserved for <type>::<plugin>/],
      [`{ path = '/x', mode = 'rwx' }`, /'mode' must be an octal mode/],
      [`{ path = '/x', mode = 0o17777 }`, /'mode' must be an octal mode/],
      [`{ path = '/x', colour = 'red' }`, /unknown field colour/],
      [`{ path = '/x', service_action = 'reload', service = 's' }`, /service_action 'reload' is not supported/],
      [`{ path = '/x', user = 3 }`, /'user' must be a non-empty string/],
    ];
    for (const [bad, pattern] of table) {
      const t = parseConfigToml(`files = [ ${bad}, { path = '/etc/good.conf', type = 'good' } ]`, SRC);
      assert.equal(t.errors.length, 1, bad);
      assert.match(t.errors[0] ?? '', pattern, bad);
      assert.ok(t.errors[0]?.startsWith(SRC), 'the error names the file');
      assert.deepEqual(t.entries.map((e) => e.type), ['tedge-configuration-plugin', 'good'], bad);
    }
  });

  it('refuses a duplicated type, a broken file keeps the self type, no file has only the self type', () => {
    const dup = parseConfigToml(`files = [ { path = '/a', type = 't' }, { path = '/b', type = 't' } ]`, SRC);
    assert.match(dup.errors[0] ?? '', /duplicated type 't'/);
    assert.deepEqual(dup.entries.map((e) => e.path), [SRC, '/a']);
    const broken = parseConfigToml(`files = [ { path = `, SRC);
    assert.match(broken.errors[0] ?? '', /invalid TOML in .*tedge-configuration-plugin.toml \(line 1/);
    assert.deepEqual(broken.entries.map((e) => e.type), ['tedge-configuration-plugin']);
    assert.deepEqual(parseConfigToml(undefined, SRC), { entries: [{ type: 'tedge-configuration-plugin', path: SRC }], errors: [] });
    assert.match(parseConfigToml(`files = 3`, SRC).errors[0] ?? '', /'files' must be an array/);
  });
});

describe('default tedge-configuration-plugin.toml', () => {
  it('parses, and declares tedge.ini and the log plugin toml', () => {
    const t = parseConfigToml(defaultConfigToml('/etc/tedge/'), SRC);
    assert.deepEqual(t.errors, []);
    assert.deepEqual(t.entries.slice(1), [
      { type: 'tedge.ini', path: '/etc/tedge/tedge.ini' },
      { type: 'tedge-log-plugin', path: '/etc/tedge/plugins/tedge-log-plugin.toml', mode: 0o644 },
    ]);
  });
});

describe('tedge-log-plugin.toml', () => {
  it('parses entries, skips bad ones, and the default file parses', () => {
    const t = parseLogToml(`files = [ { type = 'mosquitto', path = '/var/log/mosquitto/*.log' }, { type = 'x' }, { type = 'a::b', path = '/a' } ]\n[plugins.journald]\nfilters = []`, '/p.toml');
    assert.deepEqual(t.entries, [{ type: 'mosquitto', path: '/var/log/mosquitto/*.log' }]);
    assert.equal(t.errors.length, 2);
    const d = parseLogToml(defaultLogToml('/var/log/tedge/'), '/p.toml');
    assert.deepEqual(d.errors, []);
    assert.deepEqual(d.entries[0], { type: 'software-management', path: '/var/log/tedge/agent/workflow-software_*' });
  });
});

describe('log type filters ([plugins.<name>])', () => {
  it('parses filters and applies thin-edge\'s include/exclude rule', () => {
    const t = parseLogToml(`[plugins.journald]\nfilters = [ { include = "^tedge" }, { exclude = "mapper" } ]\n[plugins.other]\nfilters = [ { exclude = "^x" } ]\n[plugins.bad]\nfilters = [ { include = "(" } ]\n`, '/p.toml');
    assert.equal(t.errors.length, 1);
    assert.match(t.errors[0] ?? '', /\[plugins\.bad\]: invalid regex pattern '\('/);
    assert.equal(t.filters['bad'], undefined);
    const types = ['tedge-agent', 'tedge-mapper-c8y', 'ssh', 'mapper-x', 'xorg'];
    assert.deepEqual(filterTypes(types, t.filters['journald']), ['tedge-agent', 'tedge-mapper-c8y', 'ssh', 'xorg']);
    assert.deepEqual(filterTypes(types, t.filters['other']), ['tedge-agent', 'tedge-mapper-c8y', 'ssh', 'mapper-x']);
    assert.deepEqual(filterTypes(types, { include: [/^ssh$/], exclude: [] }), ['ssh']);
    assert.deepEqual(filterTypes(types, undefined), types);
  });
});

describe('types and URLs', () => {
  it('splits and builds advertised types', () => {
    const table: [string, { type: string; plugin: string }][] = [
      ['mosquitto', { type: 'mosquitto', plugin: 'file' }],
      ['ssh::journald', { type: 'ssh', plugin: 'journald' }],
      ['a::b::c', { type: 'a', plugin: 'b::c' }],
      ['/etc/x.conf', { type: '/etc/x.conf', plugin: 'file' }],
    ];
    for (const [advertised, want] of table) {
      assert.deepEqual(splitType(advertised), want);
      if (!want.plugin.includes('::')) assert.equal(advertisedType(want.type, want.plugin), advertised);
    }
  });

  it('fills tedgeUrl as thin-edge does', () => {
    const base = { host: '127.0.0.1', port: 8000, cmdId: 'c8y-mapper-1234' };
    assert.equal(fileTransferUrl({ ...base, entity: 'device/main//', operation: 'config_snapshot', type: 'mosquitto' }), 'http://127.0.0.1:8000/te/v1/files/main/config_snapshot/mosquitto-c8y-mapper-1234');
    assert.equal(fileTransferUrl({ ...base, entity: 'device/child1//', operation: 'log_upload', type: 'ssh::journald' }), 'http://127.0.0.1:8000/te/v1/files/child1/log_upload/ssh::journald-c8y-mapper-1234');
    assert.equal(fileTransferUrl({ ...base, entity: 'device/main//', operation: 'config_snapshot', type: '/etc/a b.conf' }), 'http://127.0.0.1:8000/te/v1/files/main/config_snapshot/:etc:a%20b.conf-c8y-mapper-1234');
    assert.equal(fileTransferUrl({ ...base, host: '::1', entity: 'device/main//', operation: 'x', type: 't' }), 'http://[::1]:8000/te/v1/files/main/x/t-c8y-mapper-1234');
    assert.equal(fileTransferUrl({ ...base, entity: 'factory/a/b/c', operation: 'x', type: 't' }), undefined);
  });

  it('reads the JSON a plugin prints between the tedge markers', () => {
    assert.deepEqual(scriptOutput('noise\n:::begin-tedge:::\n{"restartAgent": true}\n:::end-tedge:::\nmore'), { restartAgent: true });
    assert.equal(scriptOutput('nothing'), undefined);
    assert.equal(scriptOutput(':::begin-tedge:::\nnot json\n:::end-tedge:::'), undefined);
    assert.equal(scriptOutput(':::begin-tedge:::\n[1]\n:::end-tedge:::'), undefined);
  });
});

describe('log requests and filters', () => {
  it('parses a log_upload payload', () => {
    assert.deepEqual(parseLogRequest({ type: 'mosquitto', dateFrom: '2013-06-22T17:03:14.000+02:00', dateTo: '2013-06-23T00:00:00Z', searchText: 'ERROR', lines: 10 }), {
      type: 'mosquitto',
      since: 1371913394,
      until: 1371945600,
      searchText: 'ERROR',
      lines: 10,
    });
    assert.deepEqual(parseLogRequest({ type: 't', searchText: '' }), { type: 't', lines: 1000 });
    const bad: [Record<string, never> | Record<string, unknown>, RegExp][] = [
      [{}, /needs a 'type'/],
      [{ type: 3 }, /needs a 'type'/],
      [{ type: 't', lines: -1 }, /'lines' must be a non-negative integer/],
      [{ type: 't', lines: 1.5 }, /'lines'/],
      [{ type: 't', dateFrom: 'yesterday' }, /'dateFrom' must be an RFC 3339 date/],
      [{ type: 't', dateFrom: '2024-01-02T00:00:00Z', dateTo: '2024-01-01T00:00:00Z' }, /after 'dateTo'/],
      [{ type: 't', searchText: 5 }, /'searchText' must be a string/],
      [{ type: 't', tedgeUrl: 1 }, /'tedgeUrl'/],
    ];
    for (const [payload, pattern] of bad) assert.match(String(parseLogRequest(payload as never)), pattern, JSON.stringify(payload));
  });

  it('dates: RFC 3339 or epoch seconds', () => {
    assert.equal(dateSeconds('1970-01-01T00:01:00Z', 'd'), 60);
    assert.equal(dateSeconds(1700000000.9, 'd'), 1700000000);
    assert.equal(dateSeconds(null, 'd'), undefined);
    assert.match(String(dateSeconds('2024-13-45T99:00:00Z', 'd')), /RFC 3339/);
  });

  it('filters lines by searchText and keeps the tail', () => {
    const input = ['a ERROR 1', 'b', 'c ERROR 2', 'd ERROR 3', 'e'];
    const table: [{ searchText?: string; lines?: number }, string[]][] = [
      [{}, input],
      [{ lines: 2 }, ['d ERROR 3', 'e']],
      [{ lines: 10 }, input],
      [{ lines: 0 }, []],
      [{ searchText: 'ERROR' }, ['a ERROR 1', 'c ERROR 2', 'd ERROR 3']],
      [{ searchText: 'ERROR', lines: 2 }, ['c ERROR 2', 'd ERROR 3']],
      [{ searchText: 'nothing' }, []],
    ];
    for (const [opts, want] of table) {
      const f = new LineFilter(opts);
      for (const l of input) f.push(l);
      assert.deepEqual(f.result(), want, JSON.stringify(opts));
    }
    const big = new LineFilter({ lines: 3 });
    for (let i = 0; i < 100_000; i++) big.push(String(i));
    assert.deepEqual(big.result(), ['99997', '99998', '99999']);
  });

  it('selects log files by mtime, oldest first', () => {
    const files = [
      { path: '/l/b', mtime: 300 },
      { path: '/l/a', mtime: 100 },
      { path: '/l/c', mtime: 200 },
    ];
    assert.deepEqual(selectLogFiles(files, {}).map((f) => f.path), ['/l/a', '/l/c', '/l/b']);
    assert.deepEqual(selectLogFiles(files, { since: 200 }).map((f) => f.path), ['/l/c', '/l/b']);
    assert.deepEqual(selectLogFiles(files, { since: 301, until: 400 }), []);
  });

  it('builds plugin and journalctl arguments', () => {
    assert.deepEqual(getArgs('ssh', {}), ['get', 'ssh']);
    assert.deepEqual(getArgs('ssh', { since: 1, until: 2 }), ['get', 'ssh', '--since', '1', '--until', '2']);
    assert.deepEqual(journalctlArgs('all-units', { since: 10 }), ['--no-pager', '--output=short-iso', '--unit=*', '--since=@10', '--until=now']);
    assert.deepEqual(journalctlArgs('ssh', {}).slice(2), ['--unit=ssh', '--since=1 day ago', '--until=now']);
    assert.deepEqual(parseUnits('ssh.service loaded active running OpenSSH\ncron.service loaded active running\nfoo.socket x\n'), ['ssh', 'cron', 'all-units']);
  });
});

describe('glob', () => {
  it('translates segments', () => {
    const table: [string, string, boolean][] = [
      ['*.log', 'a.log', true],
      ['*.log', 'a.log.1', false],
      ['*.log*', 'a.log.1', true],
      ['?.log', 'ab.log', false],
      ['[ab].log', 'b.log', true],
      ['[!ab].log', 'b.log', false],
      ['a.b', 'axb', false],
      ['(x)+', '(x)+', true],
      ['workflow-software_*', 'workflow-software_update-1.log', true],
    ];
    for (const [seg, name, want] of table) assert.equal(segmentRegExp(seg).test(name), want, `${seg} ~ ${name}`);
  });

  it('expands to regular files, sorted, with ** for any depth', () => {
    const d = mkdtempSync(join(tmpdir(), 'tedge-glob-'));
    try {
      mkdirSync(join(d, 'x', 'y'), { recursive: true });
      for (const f of ['a.log', 'b.log', 'c.txt', 'x/d.log', 'x/y/e.log']) writeFileSync(join(d, f), f);
      mkdirSync(join(d, 'dir.log'));
      assert.deepEqual(expandGlob(`${d}/*.log`), [join(d, 'a.log'), join(d, 'b.log')]);
      assert.deepEqual(expandGlob(`${d}/**/*.log`), [join(d, 'a.log'), join(d, 'b.log'), join(d, 'x/d.log'), join(d, 'x/y/e.log')]);
      assert.deepEqual(expandGlob(`${d}/c.txt`), [join(d, 'c.txt')]);
      assert.deepEqual(expandGlob(`${d}/missing/*.log`), []);
      assert.deepEqual(expandGlob(`${d}/*/d.log`), [join(d, 'x/d.log')]);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
