import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject } from '../../../../src/core/json';
import type { ExitHandlers } from '../../../../src/agent/workflows/model';
import { type ScriptEnd, iterateUpdate, scriptOutput, scriptUpdate } from '../../../../src/agent/workflows/outcomes';

const handlers: ExitHandlers = {
  onSuccess: { status: 'next' },
  onError: { status: 'failed' },
  onKill: { status: 'failed', reason: 'killed' },
  onExit: [{ from: 1, to: 1, target: { status: 'retry', reason: 'busy' } }, { from: 3, to: 5, target: { status: 'fatal', reason: 'oops' } }],
  onStdout: [],
};
const exit = (code: number): ScriptEnd => ({ kind: 'exit', code });
const out = (json: string): string => `noise\n:::begin-tedge:::\n${json}\n:::end-tedge:::\nmore noise\n`;

describe('script end → next state (thin-edge ExitHandlers)', () => {
  const table: Array<[string, ExitHandlers, ScriptEnd, string, JsonObject]> = [
    ['exit 0 → on_success', handlers, exit(0), '', { status: 'next' }],
    ['exit 0, JSON merged, its status ignored', handlers, exit(0), out('{"status":"elsewhere","x":1}'), { status: 'next', x: 1 }],
    ['exit 1 → on_exit.1 with its reason', handlers, exit(1), '', { status: 'retry', reason: 'busy' }],
    ['exit 1, the script reason wins', handlers, exit(1), out('{"reason":"mine"}'), { status: 'retry', reason: 'mine' }],
    ['exit 2 → on_error, reason the exit code', handlers, exit(2), '', { status: 'failed', reason: '/bin/x returned exit code 2' }],
    ['exit 3, 4, 5 → range', handlers, exit(4), '', { status: 'fatal', reason: 'oops' }],
    ['exit 6 → on_error', handlers, exit(6), '', { status: 'failed', reason: '/bin/x returned exit code 6' }],
    ['exit 6 with a JSON reason', handlers, exit(6), out('{"reason":"disk full"}'), { status: 'failed', reason: 'disk full' }],
    ['killed → on_kill', handlers, { kind: 'signal', signal: 'SIGKILL' }, '', { status: 'failed', reason: 'killed' }],
    ['killed, no on_kill', { ...handlers, onKill: undefined } as ExitHandlers, { kind: 'signal', signal: 'SIGTERM' }, '', { status: 'failed', reason: '/bin/x killed by signal SIGTERM' }],
    ['timeout → on_kill without on_timeout', handlers, { kind: 'timeout', seconds: 2 }, '', { status: 'failed', reason: 'killed' }],
    ['timeout → on_timeout', { ...handlers, onTimeout: { status: 'late' } }, { kind: 'timeout', seconds: 2 }, '', { status: 'late' }],
    ['launch error → on_error', handlers, { kind: 'launch-error', message: 'ENOENT' }, '', { status: 'failed', reason: 'Failed to launch /bin/x: ENOENT' }],
  ];
  for (const [what, h, end, stdout, want] of table) it(what, () => assert.deepEqual(scriptUpdate('/bin/x', h, end, stdout), want));
});

describe('on_stdout: the script names the next state', () => {
  const h: ExitHandlers = { onError: { status: 'failed' }, onExit: [], onStdout: ['commit', 'rollback'] };
  const table: Array<[string, string, JsonObject]> = [
    ['a listed state', out('{"status":"rollback","why":"bad"}'), { status: 'rollback', why: 'bad' }],
    ['a state not listed', out('{"status":"elsewhere"}'), { status: 'failed', reason: "Program `/bin/x` asked for the state 'elsewhere', not one of on_stdout (commit, rollback)" }],
    ['no status', out('{"x":1}'), { x: 1, status: 'failed', reason: 'Program `/bin/x` stdout gives no "status"' }],
    ['no excerpt', 'plain output', { status: 'failed', reason: 'Program `/bin/x` stdout contains no :::begin-tedge::: … :::end-tedge::: content' }],
  ];
  for (const [what, stdout, want] of table) it(what, () => assert.deepEqual(scriptUpdate('/bin/x', h, exit(0), stdout), want));

  it('script output: bad JSON, not an object', () => {
    assert.match(String(scriptOutput(out('{nope')).error), /is not valid JSON/);
    assert.equal(scriptOutput(out('[1]')).error, 'is not a JSON object');
    assert.deepEqual(scriptOutput(':::begin-tedge:::\n{"a":1}\n:::end-tedge:::').json, { a: 1 });
  });
});

describe('iterate (thin-edge process_iterate)', () => {
  const t = { onNext: { status: 'apply' }, onSuccess: { status: 'done' }, onError: { status: 'failed' } };
  const items: JsonObject[] = [{ op: 'a' }, { op: 'b', '@skip': true }, { op: 'c' }];
  it('first item, skipped items, then on_success', () => {
    const first = iterateUpdate(items, {}, 'p', t);
    assert.deepEqual(first, { '@next': { index: 0, item: { op: 'a' } }, status: 'apply' });
    const second = iterateUpdate(items, first, 'p', t);
    assert.deepEqual(second, { '@next': { index: 2, item: { op: 'c' } }, status: 'apply' });
    assert.deepEqual(iterateUpdate(items, second, 'p', t), { status: 'done' });
  });
  it('an empty array → on_success; not an array, index out of range → on_error', () => {
    assert.deepEqual(iterateUpdate([], {}, 'p', t), { status: 'done' });
    assert.deepEqual(iterateUpdate('x', {}, '${.payload.p}', t), { status: 'failed', reason: 'iterate: ${.payload.p} is not an array' });
    assert.deepEqual(iterateUpdate(items, { '@next': { index: 9 } }, 'p', t), { status: 'failed', reason: 'iterate: index 9 out of bounds' });
  });
});
