import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ExecRequest } from '../../../../src/mapper/c8y/operations/exec';
import { ExecJournal, interruptedLine } from '../../../../src/mapper/c8y/operations/exec-journal';

const dir = mkdtempSync(join(tmpdir(), 'tedge-exec-journal-'));
const request = (name: string, over: Partial<ExecRequest> = {}): ExecRequest => ({
  name,
  argv: ['/bin/true'],
  timeoutMs: 1000,
  resultFormat: 'text',
  skipStatusUpdate: false,
  ref: { by: 'id', opid: '7' },
  smartrestTopic: 'c8y/s/us',
  ...over,
});

describe('custom operations journal (commands running now, for a restart after a crash)', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps what runs, forgets what ended; the file is gone when nothing runs', () => {
    const path = join(dir, 'a', 'custom-operations.json');
    const j = new ExecJournal(path);
    const a = j.add(request('c8y_A'));
    const b = j.add(request('c8y_B', { ref: { by: 'name', name: 'c8y_B' }, smartrestTopic: 'c8y/s/us/child' }));
    assert.equal(j.add(request('c8y_Self', { skipStatusUpdate: true })), undefined, 'a command reporting itself is not kept');
    j.remove(a);
    assert.deepEqual(new ExecJournal(path).leftOver().entries, [{ name: 'c8y_B', ref: { by: 'name', name: 'c8y_B' }, smartrestTopic: 'c8y/s/us/child' }]);
    j.remove(b);
    assert.equal(existsSync(path), false);
  });

  it('an unreadable journal is a problem to log, not a crash; clear removes it', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{not json');
    const j = new ExecJournal(path);
    const left = j.leftOver();
    assert.deepEqual(left.entries, []);
    assert.match(left.problem ?? '', /broken\.json/);
    j.clear();
    assert.equal(existsSync(path), false);
  });

  it('entries of another shape are ignored', () => {
    const path = join(dir, 'odd.json');
    writeFileSync(path, JSON.stringify([{ name: 'x' }, { name: 'c8y_Ok', ref: { by: 'id', opid: '1' }, smartrestTopic: 'c8y/s/us' }, 3]));
    assert.deepEqual(new ExecJournal(path).leftOver().entries.map((e) => e.name), ['c8y_Ok']);
  });

  it('the operation is failed by id or by name', () => {
    assert.equal(interruptedLine({ name: 'c8y_A', ref: { by: 'id', opid: '12' }, smartrestTopic: 'c8y/s/us' }), '505,12,c8y_A: the mapper stopped while its command was running; the result is lost');
    assert.equal(interruptedLine({ name: 'c8y_A', ref: { by: 'name', name: 'c8y_A' }, smartrestTopic: 'c8y/s/us' }), '502,c8y_A,c8y_A: the mapper stopped while its command was running; the result is lost');
  });
});
