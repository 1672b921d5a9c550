import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { idIn, parseMode } from '../../../../src/agent/tedge-write/accounts';
import { tedgeWriteArgv } from '../../../../src/agent/tedge-write/privileged-write';

describe('tedge-write helpers', () => {
  it('finds ids in passwd/group text', () => {
    const passwd = 'root:x:0:0:root:/root:/bin/bash\ntedge:x:998:997::/home/tedge:/usr/sbin/nologin\n# comment\nbroken:x:y:1\n';
    const table: [string, number | undefined][] = [
      ['root', 0],
      ['tedge', 998],
      ['broken', undefined],
      ['nobody', undefined],
      ['tedg', undefined],
    ];
    for (const [name, want] of table) assert.equal(idIn(passwd, name), want, name);
  });

  it('parses octal modes', () => {
    const table: [string, number | Error][] = [
      ['644', 0o644],
      ['0644', 0o644],
      ['0o600', 0o600],
      ['4755', 0o4755],
      ['9', new Error()],
      ['', new Error()],
      ['rw-r--r--', new Error()],
    ];
    for (const [text, want] of table) {
      if (want instanceof Error) assert.throws(() => parseMode(text), /invalid mode/, text);
      else assert.equal(parseMode(text), want, text);
    }
  });

  it('builds the tedge-write command line, with sudo -n when enabled', () => {
    assert.deepEqual(tedgeWriteArgv(['/usr/bin/tedge-write'], '/etc/a.conf', { mode: 0o644, user: 'mosquitto', group: 'mosquitto' }, '/usr/bin/sudo'), [
      '/usr/bin/sudo', '-n', '/usr/bin/tedge-write', '/etc/a.conf', '--mode', '644', '--user', 'mosquitto', '--group', 'mosquitto',
    ]);
    assert.deepEqual(tedgeWriteArgv(['node', 'tedge.js', 'write'], '/etc/b', {}, undefined), ['node', 'tedge.js', 'write', '/etc/b']);
  });
});
