import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromUnixSeconds, parseRfc3339 } from '../../../src/core/timestamp';

describe('unix seconds to RFC 3339', () => {
  const cases: Array<[number, string | RegExp]> = [
    [0, '1970-01-01T00:00:00Z'],
    [1619802194, '2021-04-30T17:03:14Z'],
    [1619802194.5, '2021-04-30T17:03:14.500Z'],
    [253402300799, '9999-12-31T23:59:59Z'],
    [-62167219200, '0000-01-01T00:00:00Z'],
    // One second past what four-digit years can write: refused, not '+010000-01-01T00:00:00Z'.
    [253402300800, /outside the years 0000 to 9999/],
    [-62167219201, /outside the years 0000 to 9999/],
    [1e300, /Invalid unix timestamp/],
    [Number.NaN, /Invalid unix timestamp/],
  ];
  for (const [input, expected] of cases) {
    it(`${input} → ${String(expected)}`, () => {
      if (typeof expected === 'string') {
        assert.equal(fromUnixSeconds(input), expected);
        assert.equal(parseRfc3339(expected), expected, 'what is written reads back');
      } else assert.throws(() => fromUnixSeconds(input), expected);
    });
  }
});
