import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EchoFilter } from '../../../src/bridge/echo-filter';

const b = (s: string): Buffer => Buffer.from(s);

describe('echo filter of bidirectional rules', () => {
  it('recognises the echo of what was published, once', () => {
    const f = new EchoFilter();
    f.expect('aws/shadow/update', b('{"a":1}'));
    assert.equal(f.isEcho('aws/shadow/update', b('{"a":2}')), false);
    assert.equal(f.isEcho('aws/shadow/update', b('{"a":1}')), true);
    assert.equal(f.isEcho('aws/shadow/update', b('{"a":1}')), false);
  });

  it('forgets the oldest notes beyond its capacity', () => {
    const f = new EchoFilter(2);
    for (const p of ['1', '2', '3']) f.expect('t', b(p));
    assert.equal(f.isEcho('t', b('1')), false);
    assert.equal(f.isEcho('t', b('3')), true);
  });
});
