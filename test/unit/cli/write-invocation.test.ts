import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseInvocation } from '../../../src/cli/invocation';

describe('tedge-write multi-call name', () => {
  it('runs `tedge write` when called through a tedge-write link, as a script or a single executable', () => {
    const table: [readonly string[], string, readonly string[]][] = [
      [['/usr/bin/node', '/usr/bin/tedge-write', '/etc/a.conf', '--mode', '644'], 'node', ['write', '/etc/a.conf', '--mode', '644']],
      [['/usr/bin/tedge', '/usr/bin/tedge', '/etc/a.conf'], '/usr/bin/tedge-write', ['write', '/etc/a.conf']],
      [['/usr/bin/tedge', '/usr/bin/tedge', '/etc/a.conf'], 'tedge-write', ['write', '/etc/a.conf']],
      [['/usr/bin/node', '/x/dist/src/bin/tedge.js', 'write', '/etc/a.conf'], 'node', ['write', '/etc/a.conf']],
    ];
    for (const [argv, argv0, args] of table) assert.deepEqual(parseInvocation(argv, argv0), { kind: 'tedge', args }, `${argv.join(' ')} (argv0 ${argv0})`);
  });
});
