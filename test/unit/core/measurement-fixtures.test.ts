import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { isConversionError } from '../../../src/core/errors';
import { formatNormalised, parseMeasurement } from '../../../src/core/measurement';
import { MEASUREMENT_FIXTURES } from '../../helpers/paths';

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return jsonFiles(path);
    return name.endsWith('.json') ? [path] : [];
  });
}

/** A word of the expected error that says what was wrong, to check our error names the same cause. */
const CAUSE: Record<string, RegExp> = {
  reject_array_value: /invalid type: sequence/,
  reject_boolean_value: /invalid type: boolean/,
  reject_deep_hierarchy: /Expect single-value measurement/,
  reject_empty_measurement: /"foo" must contain at least one measurement/,
  reject_empty_record: /must contain at least one measurement/,
  reject_huge_number: /number out of range/,
  reject_invalid_json: /Invalid JSON/,
  reject_invalid_timestamp: /Invalid ISO8601 timestamp.*'hour'/,
  reject_just_time: /must contain at least one measurement/,
  reject_partial_json: /Invalid JSON/,
  reject_partial_timestamp: /Invalid ISO8601 timestamp.*'separator'/,
  // thin-edge names 'hour' here; the missing T is the separator, which is what we name.
  reject_timestamp_missing_time_separator: /Invalid ISO8601 timestamp.*'separator'/,
  reject_toplevel_array: /invalid type: sequence, expected ThinEdge JSON/,
};

describe('Thin Edge JSON measurement fixtures (thin-edge.io golden files)', () => {
  const valid = jsonFiles(join(MEASUREMENT_FIXTURES, 'valid'));
  const invalid = jsonFiles(join(MEASUREMENT_FIXTURES, 'invalid'));

  it('finds the fixture files', () => {
    assert.ok(valid.length >= 7, `valid fixtures found: ${valid.length}`);
    assert.ok(invalid.length >= 13, `invalid fixtures found: ${invalid.length}`);
  });

  for (const file of valid) {
    it(`accepts and normalises ${relative(MEASUREMENT_FIXTURES, file)}`, () => {
      const expected = readFileSync(file.replace(/\.json$/, '.expected_output'), 'utf8').trim();
      assert.equal(formatNormalised(parseMeasurement(readFileSync(file, 'utf8'))), expected);
    });
  }

  for (const file of invalid) {
    const name = relative(join(MEASUREMENT_FIXTURES, 'invalid'), file).replace(/\.json$/, '');
    it(`rejects ${name} naming the cause`, () => {
      const cause = CAUSE[name];
      assert.ok(cause, `no expected cause listed for fixture ${name}`);
      assert.throws(
        () => parseMeasurement(readFileSync(file, 'utf8')),
        (e: unknown) => isConversionError(e) && cause.test(e.message),
      );
    });
  }
});
