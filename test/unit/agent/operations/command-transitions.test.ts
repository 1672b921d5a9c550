import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject } from '../../../../src/core/json';
import {
  AGENT_RESTARTED_REASON,
  type CommandEvent,
  type Effect,
  type Tracked,
  UNKNOWN_COMMAND_REASON,
  transition,
} from '../../../../src/agent/operations/command-transitions';

/** An effect in one short word, so a row of the table reads as the sequence the executor runs. */
function show(e: Effect): string {
  switch (e.kind) {
    case 'log':
      return 'log';
    case 'forget':
      return 'forget';
    case 'prepare':
      return 'prepare';
    case 'run':
      return `run:${e.mode}`;
    case 'persist':
      return `persist:${String(e.payload['status'])}${e.delivered === true ? '(delivered)' : ''}`;
    case 'publish':
      return `publish:${String(e.payload['status'])}`;
  }
}

function phase(s: Tracked | undefined): string {
  if (s === undefined) return '-';
  return s.phase === 'finished' ? `finished:${s.status}` : s.phase === 'running' ? `running:${String(s.payload['status'])}` : s.phase;
}

const running = (payload: JsonObject): Tracked => ({ phase: 'running', payload });
const req = (payload: JsonObject): CommandEvent => ({ kind: 'request', payload });

const TABLE: ReadonlyArray<readonly [string, Tracked | undefined, CommandEvent, string, string]> = [
  // [case, state, event, next state, effects]
  ['new request runs: persisted, then published, then acted on', undefined, req({ status: 'init' }), 'running:executing', 'log persist:executing prepare publish:executing run:execute'],
  ['a request without status is init', undefined, req({ x: 1 }), 'running:executing', 'log persist:executing prepare publish:executing run:execute'],
  ['our own executing echo', running({ status: 'executing' }), req({ status: 'executing' }), 'running:executing', ''],
  ['a duplicate init while running', running({ status: 'executing' }), req({ status: 'init' }), 'running:executing', ''],
  ['a terminal state nobody cleared yet', undefined, req({ status: 'successful' }), '-', ''],
  ['executing that nobody persisted: failed, never left hanging', undefined, req({ status: 'executing' }), 'finished:failed', 'log persist:failed publish:failed persist:failed(delivered)'],
  ['an unknown intermediate state nobody persisted', undefined, req({ status: 'scheduled' }), 'finished:failed', 'log persist:failed publish:failed persist:failed(delivered)'],
  ['malformed: failed with the reason', undefined, { kind: 'malformed', reason: 'Invalid JSON: x' }, 'finished:failed', 'log persist:failed publish:failed persist:failed(delivered)'],
  ['malformed over a running command is only logged', running({ status: 'executing' }), { kind: 'malformed', reason: 'x' }, 'running:executing', 'log'],
  ['handler done: persisted, published, then noted as delivered', running({ status: 'executing' }), { kind: 'finished', outcome: { status: 'successful' } }, 'finished:successful', 'log persist:successful publish:successful persist:successful(delivered)'],
  ['handler failed', running({ status: 'executing' }), { kind: 'finished', outcome: { status: 'failed', reason: 'no' } }, 'finished:failed', 'log persist:failed publish:failed persist:failed(delivered)'],
  ['our terminal echo', { phase: 'finished', status: 'successful' }, req({ status: 'successful' }), 'finished:successful', ''],
  ['the request handed over again after the result (lost PUBACK): not run twice', { phase: 'finished', status: 'successful' }, req({ status: 'init' }), 'finished:successful', ''],
  ['a late executing echo after the result: kept', { phase: 'finished', status: 'successful' }, req({ status: 'executing' }), 'finished:successful', ''],
  ['cleared after the result', { phase: 'finished', status: 'failed' }, { kind: 'cleared' }, '-', 'forget'],
  ['cleared, unknown: any leftover file goes', undefined, { kind: 'cleared' }, '-', 'forget'],
  ['cleared while running: file gone, result dropped', running({ status: 'executing' }), { kind: 'cleared' }, 'abandoned', 'log forget'],
  ['result of an abandoned command: remembered, not published', { phase: 'abandoned' }, { kind: 'finished', outcome: { status: 'successful' } }, 'finished:successful', 'log'],
  ['restored executing with resume', undefined, { kind: 'restored', payload: { status: 'executing' }, resumable: true }, 'running:executing', 'log publish:executing run:resume'],
  ['restored executing without resume: failed', undefined, { kind: 'restored', payload: { status: 'executing' }, resumable: false }, 'finished:failed', 'log persist:failed publish:failed persist:failed(delivered)'],
  ['restored intermediate state (workflow) resumes the same way', undefined, { kind: 'restored', payload: { status: 'download' }, resumable: true }, 'running:download', 'log publish:download run:resume'],
  ['restored terminal, maybe never published: published again', undefined, { kind: 'restored', payload: { status: 'successful' }, resumable: true }, 'finished:successful', 'publish:successful persist:successful(delivered)'],
  ['restored terminal the broker has: kept until cleared', undefined, { kind: 'restored', payload: { status: 'failed' }, resumable: true, delivered: true }, 'finished:failed', ''],
  ['restored init: run', undefined, { kind: 'restored', payload: { status: 'init' }, resumable: false }, 'running:executing', 'log persist:executing prepare publish:executing run:execute'],
  ['checkpoint while running: persisted only', running({ status: 'executing' }), { kind: 'checkpoint', update: { step: 2 } }, 'running:executing', 'persist:executing'],
  ['checkpoint after the end: nothing', { phase: 'finished', status: 'successful' }, { kind: 'checkpoint', update: { step: 2 } }, 'finished:successful', ''],
  ['a workflow moves to an intermediate state: persisted, then published', running({ status: 'executing' }), { kind: 'advance', status: 'download', update: { url: 'u' } }, 'running:download', 'log persist:download publish:download'],
  ['advance never reaches a terminal state (that is finished)', running({ status: 'executing' }), { kind: 'advance', status: 'successful', update: {} }, 'running:executing', ''],
  ['advance of a command that is not running', undefined, { kind: 'advance', status: 'download', update: {} }, '-', ''],
  ['a result when nothing runs: nothing', undefined, { kind: 'finished', outcome: { status: 'successful' } }, '-', ''],
];

describe('command transitions', () => {
  for (const [name, state, event, next, effects] of TABLE) {
    it(name, () => {
      const step = transition(state, event);
      assert.equal(phase(step.state), next);
      assert.equal(step.effects.map(show).join(' '), effects);
    });
  }

  it('keeps every unknown field, in executing and in the result', () => {
    const start = transition(undefined, req({ status: 'init', custom: { a: [1, 2] }, 'x-y': 'z' }));
    const executing = start.effects.find((e) => e.kind === 'publish');
    assert.deepEqual(executing?.kind === 'publish' && executing.payload, { status: 'executing', custom: { a: [1, 2] }, 'x-y': 'z' });
    const done = transition(start.state, { kind: 'finished', outcome: { status: 'successful', payload: { currentSoftwareList: [] } } });
    const result = done.effects.find((e) => e.kind === 'publish');
    assert.deepEqual(result?.kind === 'publish' && result.payload, { status: 'successful', custom: { a: [1, 2] }, 'x-y': 'z', currentSoftwareList: [] });
  });

  it('gives the reason of a failure, and of a command found executing with no record', () => {
    const failed = transition(running({ status: 'executing', a: 1 }), { kind: 'finished', outcome: { status: 'failed', reason: 'disk full' } });
    const p = failed.effects.find((e) => e.kind === 'publish');
    assert.deepEqual(p?.kind === 'publish' && p.payload, { status: 'failed', a: 1, reason: 'disk full' });
    const orphan = transition(undefined, req({ status: 'executing', a: 1 })).effects.find((e) => e.kind === 'publish');
    assert.deepEqual(orphan?.kind === 'publish' && orphan.payload, { status: 'failed', a: 1, reason: UNKNOWN_COMMAND_REASON });
    const restarted = transition(undefined, { kind: 'restored', payload: { status: 'executing' }, resumable: false }).effects.find((e) => e.kind === 'publish');
    assert.deepEqual(restarted?.kind === 'publish' && restarted.payload, { status: 'failed', reason: AGENT_RESTARTED_REASON });
  });

  it('checkpoints merge into the payload but never change the status', () => {
    const step = transition(running({ status: 'executing', a: 1 }), { kind: 'checkpoint', update: { b: 2, status: 'successful' } });
    assert.deepEqual(step.state, { phase: 'running', payload: { status: 'executing', a: 1, b: 2 } });
  });
});
