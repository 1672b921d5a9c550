/**
 * Thin Edge JSON → Cumulocity JSON through MeasurementConverter on both paths, against
 * test/fixtures/measurement-c8y/cases.json (which the C++ host tests read too) and the shared
 * thin-edge.io fixtures: the same bytes out, the same ConversionError messages, and the native
 * converter's own verdict (ok / invalid / syntax / fallback) as recorded.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConversionError } from '../../../src/core/errors';
import {
  type C8yMeasurementContext,
  MeasurementConverter,
  convertWithTypeScript,
} from '../../../src/native/measurement-converter';
import { MEASUREMENT_FIXTURES } from '../../helpers/paths';
import { IMPLEMENTATIONS, MEASUREMENT_CASES, NATIVE } from './support';

interface GoldenCase {
  name: string;
  payload?: string;
  payloadHex?: string;
  context: {
    topicType: string;
    nowMs: number;
    unitsBySeries?: Record<string, string>;
    externalSource?: { externalId: string; type: 'c8y_Serial' };
  };
  native: 'ok' | 'invalid' | 'syntax' | 'fallback';
  output?: string;
  error?: string;
}

const cases = (JSON.parse(readFileSync(MEASUREMENT_CASES, 'utf8')) as { cases: GoldenCase[] }).cases;

function payloadOf(c: GoldenCase): Buffer {
  return c.payloadHex !== undefined ? Buffer.from(c.payloadHex, 'hex') : Buffer.from(c.payload ?? '', 'utf8');
}

function contextOf(c: GoldenCase): C8yMeasurementContext {
  return {
    topicType: c.context.topicType,
    units: new Map(Object.entries(c.context.unitsBySeries ?? {})),
    externalSource: c.context.externalSource,
    now: new Date(c.context.nowMs),
  };
}

function outcome(f: () => Buffer): { output: string } | { error: string } {
  try {
    return { output: f().toString('utf8') };
  } catch (err) {
    assert.ok(err instanceof ConversionError, `not a ConversionError: ${String(err)}`);
    return { error: err.message };
  }
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return jsonFiles(path);
    return name.endsWith('.json') ? [path] : [];
  });
}

describe('measurement conversion golden cases', () => {
  it('the golden file matches the TypeScript path (regenerate it when the contract changes)', () => {
    assert.ok(cases.length >= 90);
    for (const c of cases) {
      const got = outcome(() => convertWithTypeScript(payloadOf(c), contextOf(c)));
      assert.deepEqual(got, c.output !== undefined ? { output: c.output } : { error: c.error }, c.name);
    }
  });

  it('[native] the one-pass converter returns the recorded verdict for every case', (t) => {
    const native = NATIVE.binding;
    if (!native) return t.skip(`addon not built (${NATIVE.reason ?? ''})`);
    const pool = Buffer.alloc(1 << 16);
    const verdicts = ['invalid', 'syntax', 'fallback'];
    for (const c of cases) {
      const ctx = contextOf(c);
      const units = [...(ctx.units ?? new Map<string, string>())].flatMap(([k, u]) => [k, JSON.stringify(u)]);
      const handle = native.createConverterContext(
        JSON.stringify(c.context.topicType || 'ThinEdgeMeasurement'),
        c.context.externalSource ? JSON.stringify(c.context.externalSource) : '',
        units,
      );
      const n: number = native.convertMeasurement(handle, payloadOf(c), c.context.nowMs, pool, 0);
      const verdict: string | undefined = n >= 0 ? 'ok' : verdicts[-n - 1];
      assert.equal(verdict, c.native, c.name);
      if (n >= 0) assert.equal(pool.toString('utf8', 0, n), c.output, c.name);
      if (verdict === 'invalid') assert.equal(native.lastConvertError(), c.error, c.name);
    }
  });

  for (const impl of IMPLEMENTATIONS) {
    it(`[${impl.name}] MeasurementConverter gives the TypeScript path's bytes and errors`, (t) => {
      if (impl.skip) return t.skip(impl.skip);
      const converter = new MeasurementConverter(impl.binding);
      assert.equal(converter.isNative, impl.name === 'native');
      for (const c of cases) {
        const got = outcome(() => converter.convert(payloadOf(c), contextOf(c)));
        assert.deepEqual(got, c.output !== undefined ? { output: c.output } : { error: c.error }, c.name);
      }
      if (impl.binding) {
        const expected = cases.filter((c) => c.native === 'fallback').length + cases.filter((c) => c.native === 'syntax').length;
        assert.equal(converter.fallbacks.fallback + converter.fallbacks.syntax, expected);
      }
    });

    it(`[${impl.name}] convertBatch gives what convert gives, item by item`, (t) => {
      if (impl.skip) return t.skip(impl.skip);
      const converter = new MeasurementConverter(impl.binding);
      const items = cases.map((c) => ({ payload: payloadOf(c), ctx: contextOf(c) }));
      const results = converter.convertBatch(items);
      assert.equal(results.length, cases.length);
      results.forEach((r, i) => {
        const c = cases[i] as GoldenCase;
        if (r instanceof ConversionError) assert.equal(r.message, c.error, c.name);
        else assert.equal(r.toString('utf8'), c.output, c.name);
      });
    });

    it(`[${impl.name}] shared thin-edge.io fixtures convert as the TypeScript path converts them`, (t) => {
      if (impl.skip) return t.skip(impl.skip);
      const converter = new MeasurementConverter(impl.binding);
      const ctx: C8yMeasurementContext = { topicType: 'env', units: new Map([['temperature', '°C']]), now: new Date(0) };
      const files = jsonFiles(MEASUREMENT_FIXTURES);
      assert.ok(files.length >= 20);
      for (const file of files) {
        const payload = readFileSync(file);
        assert.deepEqual(
          outcome(() => converter.convert(payload, ctx)),
          outcome(() => convertWithTypeScript(payload, ctx)),
          file,
        );
      }
    });

    it(`[${impl.name}] a new units table (meta update) takes effect`, (t) => {
      if (impl.skip) return t.skip(impl.skip);
      const converter = new MeasurementConverter(impl.binding);
      const payload = Buffer.from('{"temperature": 20}');
      const now = new Date(0);
      const a = converter.convert(payload, { topicType: 'env', units: new Map([['temperature', 'C']]), now }).toString();
      const b = converter.convert(payload, { topicType: 'env', units: new Map([['temperature', 'K']]), now }).toString();
      assert.match(a, /"unit":"C"/);
      assert.match(b, /"unit":"K"/);
    });
  }
});
