import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandLine } from '../../../../src/agent/workflows/engine';
import { splitShellWords } from '../../../../src/agent/workflows/shell-words';
import type { CommandView } from '../../../../src/agent/workflows/template';

describe('splitShellWords (shell-words rules, no shell)', () => {
  const table: Array<[string, string[]]> = [
    ['a b  c', ['a', 'b', 'c']],
    ['  lead\ttrail  ', ['lead', 'trail']],
    ["'one word' two", ['one word', 'two']],
    ['"double \\"quoted\\" \\$x \\\\" z', ['double "quoted" $x \\', 'z']],
    ['"keeps \\n as is"', ['keeps \\n as is']],
    ['a\\ b c', ['a b', 'c']],
    ["mix'ed \"q\"'uotes", ['mixed "q"uotes']],
    ["''", ['']],
    ['echo $(reboot); rm -rf /', ['echo', '$(reboot);', 'rm', '-rf', '/']],
    ['line\\\ncontinued', ['linecontinued']],
    ['', []],
  ];
  for (const [line, argv] of table) it(JSON.stringify(line), () => assert.deepEqual(splitShellWords(line), argv));

  for (const bad of ["'open", '"open', 'trailing\\']) it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => splitShellWords(bad)));
});

describe('commandLine: split first, then substitute each item (no injection)', () => {
  const view = (payload: Record<string, string>): CommandView => ({ topic: 'te/device/main///cmd/x/1', rootPrefix: 'te', target: 'device/main//', operation: 'x', cmdId: '1', payload });
  const evil = [
    'a b c',
    "it's \"quoted\"",
    'x; reboot',
    '$(touch /tmp/pwned)',
    '`id`',
    "' ; rm -rf / ; '",
    '" && echo hi "',
    'new\nline',
    '${.payload.other}',
  ];
  for (const value of evil) {
    it(`a payload value ${JSON.stringify(value)} stays one argv item`, () => {
      assert.deepEqual(commandLine('/bin/echo ${.payload.v} end', view({ v: value, other: 'no' })), ['/bin/echo', value, 'end']);
      assert.deepEqual(commandLine("/bin/echo '${.payload.v}'", view({ v: value, other: 'no' })), ['/bin/echo', value]);
      assert.deepEqual(commandLine('/bin/echo "pre-${.payload.v}-post"', view({ v: value, other: 'no' })), ['/bin/echo', `pre-${value}-post`]);
    });
  }
  it('an unbalanced quote is a reason, not a throw', () => assert.match(String(commandLine("echo 'x", view({}))), /cannot split the command/));
});
