import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planDrop, segmentBytesFor } from '../../../src/bridge/outbox/bound';

describe('outbox bound: which oldest segments to drop for a new record', () => {
  const rows: ReadonlyArray<readonly [string, number[], number, number, { dropSegments: number; rejectIncoming: boolean }]> = [
    ['fits: nothing dropped', [100, 100], 50, 1000, { dropSegments: 0, rejectIncoming: false }],
    ['exactly at the bound: nothing dropped', [500, 400], 100, 1000, { dropSegments: 0, rejectIncoming: false }],
    ['one byte over: the oldest segment goes', [500, 400], 101, 1000, { dropSegments: 1, rejectIncoming: false }],
    ['as many oldest segments as needed', [300, 300, 300], 400, 1000, { dropSegments: 1, rejectIncoming: false }],
    ['all but the newest', [300, 300, 300], 700, 1000, { dropSegments: 2, rejectIncoming: false }],
    ['everything, the active segment included', [300, 300, 300], 1000, 1000, { dropSegments: 3, rejectIncoming: false }],
    ['an empty (fully delivered) head segment counts nothing', [0, 900], 200, 1000, { dropSegments: 2, rejectIncoming: false }],
    ['a record larger than the bound is refused, nothing else dropped', [100], 1001, 1000, { dropSegments: 0, rejectIncoming: true }],
    ['an empty outbox', [], 10, 1000, { dropSegments: 0, rejectIncoming: false }],
  ];
  for (const [name, segments, incoming, max, expected] of rows) it(name, () => assert.deepEqual(planDrop(segments, incoming, max), expected));
});

describe('outbox segment size from the bound', () => {
  for (const [max, expected] of [
    [1024, 4096],
    [64 * 1024 * 1024, 1024 * 1024],
    [10 * 1024 * 1024 * 1024, 16 * 1024 * 1024],
  ] as const) {
    it(`${max} → ${expected}`, () => assert.equal(segmentBytesFor(max), expected));
  }
});
