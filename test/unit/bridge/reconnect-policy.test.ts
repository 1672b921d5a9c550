import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ReconnectEvent, nextDelay } from '../../../src/bridge/reconnect-policy';

const POLICY = { initialMs: 5_000, maximumMs: 600_000, resetWindowMs: 300_000 };
const failed: ReconnectEvent = { kind: 'attempt-failed' };
const lost = (upMs: number): ReconnectEvent => ({ kind: 'connection-lost', upMs });

/** Events in order, and the delay each one waits. */
const rows: ReadonlyArray<readonly [string, ReconnectEvent[], number[]]> = [
  ['doubles from the initial delay', [failed, failed, failed, failed], [5_000, 10_000, 20_000, 40_000]],
  ['stops at the maximum', Array<ReconnectEvent>(10).fill(failed), [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 600_000, 600_000, 600_000]],
  ['a connection shorter than the reset window keeps growing', [failed, failed, lost(60_000), failed], [5_000, 10_000, 20_000, 40_000]],
  ['a connection that lasted the reset window starts over', [failed, failed, failed, lost(300_000), failed], [5_000, 10_000, 20_000, 5_000, 10_000]],
];

describe('reconnect back-off', () => {
  for (const [name, events, delays] of rows) {
    it(name, () => {
      let current = POLICY.initialMs;
      const got = events.map((e) => {
        const r = nextDelay(POLICY, current, e);
        current = r.current;
        return r.delayMs;
      });
      assert.deepEqual(got, delays);
    });
  }
});
