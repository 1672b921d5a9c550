import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { judge } from '../../bench/footprint-bars';
import { REPO_ROOT } from '../../helpers/paths';

describe('footprint bars', () => {
  it('a figure passes up to the bar plus the tolerance, and fails past it', () => {
    const rows: Array<[number, number, boolean]> = [
      [30, 30, true],
      [33, 30, true],
      [33.01, 30, false],
      [22_016_356, 20_016_356, true],
      [22_100_000, 20_000_000, false],
    ];
    for (const [measured, bar, ok] of rows) assert.equal(judge('x', measured, bar, 0.1).ok, ok, `${measured} vs ${bar}`);
  });

  it('the recorded bars are figures, with a 10 % tolerance', () => {
    const bars = JSON.parse(readFileSync(join(REPO_ROOT, 'packaging', 'footprint-bars.json'), 'utf8')) as {
      tolerance: number;
      idleRssMiB: Record<string, number>;
      debBytes: Record<string, number>;
    };
    assert.equal(bars.tolerance, 0.1);
    assert.ok(Object.values(bars.idleRssMiB).every((v) => v > 0));
    assert.ok(Object.values(bars.debBytes).every((v) => Number.isInteger(v) && v > 0));
    assert.ok(bars.debBytes['amd64'] !== undefined && bars.idleRssMiB['x86_64'] !== undefined);
  });
});
