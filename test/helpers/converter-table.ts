import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Converter } from '../../src/core/converter';
import { formatLine, parseLine } from '../../src/core/message';

/** One row of a converter table: input lines (given in order) → the lines the last input produces. */
export interface ConverterRow {
  readonly name: string;
  /** Earlier inputs that set up state (registrations, units); their outputs are not checked. */
  readonly given?: readonly string[];
  readonly input: string;
  readonly output: readonly string[];
}

/** Rows whose input must be rejected with a conversion error matching `error`. */
export interface RejectRow {
  readonly name: string;
  readonly given?: readonly string[];
  readonly input: string;
  readonly error: RegExp;
}

/** Runs each row on a fresh converter, in the `[topic] payload` form of `tedge mqtt sub`. */
export function converterTable(make: () => Converter, now: Date, rows: readonly ConverterRow[]): void {
  for (const row of rows) {
    it(row.name, () => {
      const converter = make();
      for (const line of row.given ?? []) converter.convert(parseLine(line), now);
      const out = converter.convert(parseLine(row.input), now).map(formatLine);
      assert.deepEqual(out, row.output);
    });
  }
}

export function rejectTable(make: () => Converter, now: Date, rows: readonly RejectRow[]): void {
  for (const row of rows) {
    it(row.name, () => {
      const converter = make();
      for (const line of row.given ?? []) converter.convert(parseLine(line), now);
      assert.throws(() => converter.convert(parseLine(row.input), now), row.error);
    });
  }
}
