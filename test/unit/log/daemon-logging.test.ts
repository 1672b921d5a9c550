import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { daemonLogging, levelFromSystemToml } from '../../../src/log/daemon-logging';
import { createLogger, setLogLevel } from '../../../src/log/logger';

describe('levelFromSystemToml: thin-edge precedence of [log] entries', () => {
  const rows: Array<[string, Record<string, unknown>, string, string | undefined]> = [
    ['no [log]', {}, 'tedge-agent', undefined],
    ['own entry', { log: { 'tedge-agent': 'debug' } }, 'tedge-agent', 'debug'],
    ['case-insensitive', { log: { 'tedge-agent': 'WARN' } }, 'tedge-agent', 'warn'],
    ['tedge-mapper covers every mapper', { log: { 'tedge-mapper': 'trace' } }, 'tedge-mapper-c8y', 'trace'],
    ['a mapper entry beats tedge-mapper', { log: { 'tedge-mapper': 'trace', 'tedge-mapper-az': 'error' } }, 'tedge-mapper-az', 'error'],
    ['tedge-mapper is not the agent', { log: { 'tedge-mapper': 'trace' } }, 'tedge-agent', undefined],
    ['tedge is the fallback of all', { log: { tedge: 'warn', 'tedge-mapper': 'debug' } }, 'tedge-agent', 'warn'],
    ['other services ignored', { log: { 'tedge-agent': 'debug' } }, 'tedge-mapper-c8y', undefined],
  ];
  for (const [name, table, service, level] of rows) it(name, () => assert.equal(levelFromSystemToml(table, service, 'system.toml'), level));

  it('an unknown level is an error naming the entry', () => {
    assert.throws(() => levelFromSystemToml({ log: { 'tedge-agent': 'verbose' } }, 'tedge-agent', '/etc/tedge/system.toml'), /\/etc\/tedge\/system.toml: \[log\] tedge-agent = "verbose" is not a log level/);
  });
});

describe('daemonLogging', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tedge-log-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the level from system.toml, and SIGHUP (reload) reads it again, children included', () => {
    writeFileSync(join(dir, 'system.toml'), '[log]\ntedge-agent = "warn"\n');
    const { logger, reload } = daemonLogging('tedge-agent', {}, dir, {});
    const child = logger.child({ component: 'c' });
    assert.equal(logger.level, 'warn');
    assert.equal(child.level, 'warn');
    writeFileSync(join(dir, 'system.toml'), '[log]\ntedge-agent = "debug"\n');
    reload();
    assert.equal(logger.level, 'debug');
    assert.equal(child.level, 'debug');
    writeFileSync(join(dir, 'system.toml'), '[init]\nname = "systemd"\n');
    reload();
    assert.equal(child.level, 'info', 'an entry removed from the file: back to info');
  });

  it('--log-level and --debug beat system.toml, also after a reload', () => {
    writeFileSync(join(dir, 'system.toml'), '[log]\ntedge-agent = "warn"\n');
    assert.equal(daemonLogging('tedge-agent', { debug: true }, dir, {}).logger.level, 'debug');
    const l = daemonLogging('tedge-agent', { logLevel: 'error' }, dir, {});
    l.reload();
    assert.equal(l.logger.level, 'error');
  });

  it('a broken system.toml keeps the previous level at a reload and runs at info at start', () => {
    writeFileSync(join(dir, 'system.toml'), '[log]\ntedge-agent = "warn"\n');
    const l = daemonLogging('tedge-agent', {}, dir, {});
    writeFileSync(join(dir, 'system.toml'), '[log\n');
    l.reload();
    assert.equal(l.logger.level, 'warn');
    assert.equal(daemonLogging('tedge-agent', {}, dir, {}).logger.level, 'info');
  });

  it('json when logs.format says so (file or TEDGE_LOGS_FORMAT), text otherwise; --log-format wins', () => {
    assert.equal(daemonLogging('tedge-agent', {}, dir, {}).format, 'text');
    assert.equal(daemonLogging('tedge-agent', {}, dir, { TEDGE_LOGS_FORMAT: 'json' }).format, 'json');
    assert.equal(daemonLogging('tedge-agent', { logFormat: 'text' }, dir, { TEDGE_LOGS_FORMAT: 'json' }).format, 'text');
  });
});

describe('createLogger', () => {
  it('writes text lines by default and JSON on request', () => {
    const lines: string[] = [];
    const text = createLogger({ name: 'tedge-agent', timestamps: false, write: (l) => lines.push(l) });
    text.child({ component: 'entities' }).info({ count: 2 }, 'registered');
    const json = createLogger({ name: 'tedge-agent', format: 'json', write: (l) => lines.push(l) });
    json.warn('w');
    assert.equal(lines[0], ' INFO tedge-agent entities: registered count=2\n');
    const record = JSON.parse(lines[1] ?? '') as Record<string, unknown>;
    assert.equal(record['msg'], 'w');
    assert.equal(record['level'], 40);
  });

  it('setLogLevel reaches children made before and after', () => {
    const lines: string[] = [];
    const root = createLogger({ name: 'x', level: 'info', timestamps: false, write: (l) => lines.push(l) });
    const before = root.child({ component: 'a' });
    setLogLevel(before, 'debug');
    root.child({ component: 'b' }).debug('after');
    before.debug('before');
    assert.deepEqual(lines, ['DEBUG x b: after\n', 'DEBUG x a: before\n']);
  });
});
