import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CommandLogs } from '../../../../src/agent/operations/command-log';
import { CommandStore } from '../../../../src/agent/operations/command-store';
import { fixedClock } from '../../../../src/core/clock';

describe('the persisted commands', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-cmd-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('saves, loads back and removes one file per command, creating the directory', () => {
    const store = new CommandStore(join(dir, 'workflows'));
    assert.deepEqual(store.load(), { commands: [], unreadable: [] });
    const topic = 'te/device/main///cmd/restart/c8y-mapper-1';
    store.save('restart', 'c8y-mapper-1', { topic, payload: { status: 'executing', x: [1] } });
    assert.deepEqual(readdirSync(join(dir, 'workflows')), ['restart-c8y-mapper-1.json']);
    store.save('restart', 'c8y-mapper-1', { topic, payload: { status: 'successful' } });
    assert.deepEqual(store.load().commands, [{ topic, payload: { status: 'successful' } }]);
    store.remove('restart', 'c8y-mapper-1');
    store.remove('restart', 'c8y-mapper-1'); // twice: no error
    assert.deepEqual(store.load().commands, []);
  });

  it('never lets two commands share a file', () => {
    const store = new CommandStore(dir);
    assert.notEqual(store.fileOf('a-b', 'c'), store.fileOf('a', 'b-c'));
    assert.notEqual(store.fileOf('a', '%2Db'), store.fileOf('a', '-b'));
    assert.equal(basename(store.fileOf('op', '..')), 'op-...json');
  });

  it('reports unreadable files and skips the temp files of an interrupted write', () => {
    const store = new CommandStore(dir);
    store.save('restart', '1', { topic: 'te/device/main///cmd/restart/1', payload: { status: 'executing' } });
    writeFileSync(join(dir, 'restart-2.json'), '{"topic":"te/device/main///cmd/restart/2","payl');
    writeFileSync(join(dir, '.restart-3.json.tmp-77'), 'garbage');
    writeFileSync(join(dir, 'restart-4.json'), '{"topic":7,"payload":{}}');
    const report = store.load();
    assert.deepEqual(report.commands.map((c) => c.topic), ['te/device/main///cmd/restart/1']);
    assert.deepEqual(report.unreadable.map((u) => basename(u.file)), ['restart-2.json', 'restart-4.json']);
    assert.match(report.unreadable[0]?.reason ?? '', /Invalid JSON/);
  });
});

describe('the command logs', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-cmd-logs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes workflow-<op>-<id>.log with timestamped lines', () => {
    const logs = new CommandLogs(join(dir, 'agent'), 5, fixedClock(new Date('2026-01-02T03:04:05Z')));
    logs.open('restart', 'x-1');
    logs.append('restart', 'x-1', 'hello\n');
    assert.deepEqual(readdirSync(join(dir, 'agent')), ['workflow-restart-x-1.log']);
  });

  it('keeps the newest logs.max_per_operation logs of each operation, the current one included', () => {
    const logs = new CommandLogs(dir, 3, fixedClock(new Date()));
    mkdirSync(dir, { recursive: true });
    for (let i = 1; i <= 5; i++) {
      const f = join(dir, `workflow-restart-${i}.log`);
      writeFileSync(f, '');
      utimesSync(f, i * 1000, i * 1000);
    }
    writeFileSync(join(dir, 'workflow-software_list-old.log'), '');
    utimesSync(join(dir, 'workflow-software_list-old.log'), 1, 1);
    logs.open('restart', 'new');
    assert.deepEqual(readdirSync(dir).sort(), ['workflow-restart-4.log', 'workflow-restart-5.log', 'workflow-restart-new.log', 'workflow-software_list-old.log']);
  });

  it('does not fail the command when the log cannot be written', () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, '');
    const errors: unknown[] = [];
    const logs = new CommandLogs(file, 5, fixedClock(new Date()), (e) => errors.push(e));
    logs.open('restart', '1');
    logs.append('restart', '1', 'x');
    assert.equal(errors.length, 2);
  });
});
