/**
 * Differential test of the measurement converter: seeded random payloads (valid and broken, numbers
 * in every JSON notation, escapes, groups, properties, times) through the native converter and the
 * TypeScript path must give the same bytes or the same ConversionError message.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConversionError } from '../../src/core/errors';
import { type C8yMeasurementContext, MeasurementConverter, convertWithTypeScript } from '../../src/native/measurement-converter';
import { NATIVE, prng } from '../unit/native/support';

type Rand = () => number;

function pick<T>(rand: Rand, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)] as T;
}

/** A JSON number token, in any notation JSON allows (and some that overflow or underflow). */
function numberToken(rand: Rand): string {
  const r = rand();
  if (r < 0.2) return String(Math.floor(rand() * 2000) - 1000);
  if (r < 0.4) return String((rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20));
  if (r < 0.55) {
    // Random bit patterns: every kind of double, printed the way JavaScript prints them.
    const view = new DataView(new ArrayBuffer(8));
    view.setUint32(0, Math.floor(rand() * 2 ** 32));
    view.setUint32(4, Math.floor(rand() * 2 ** 32));
    const v = view.getFloat64(0);
    return Number.isFinite(v) ? String(v) : '1e999';
  }
  const digits = (n: number): string => Array.from({ length: n }, (_, i) => String(i === 0 ? 1 + Math.floor(rand() * 9) : Math.floor(rand() * 10))).join('');
  let s = rand() < 0.3 ? '-' : '';
  s += rand() < 0.2 ? '0' : digits(1 + Math.floor(rand() * 25));
  if (rand() < 0.5) s += `.${digits(1 + Math.floor(rand() * 20)).replace(/^./, String(Math.floor(rand() * 10)))}`;
  if (rand() < 0.4) s += `${pick(rand, ['e', 'E'])}${pick(rand, ['', '+', '-'])}${Math.floor(rand() * 400)}`;
  return s;
}

const KEY_PARTS = ['temperature', 'Climate', 'Humidity', 'a', 'b', 'x y', 'é', '湿度', '\\"', '\\\\', '\\u00e9', '\\/', '\\n', '\\ud83d\\ude00', '\\u0000', 'type', 'time', 'properties', 'externalSource', '1', '__proto__', 'toString'];

function key(rand: Rand): string {
  let k = '';
  for (let i = 1 + Math.floor(rand() * 2); i > 0; i--) k += pick(rand, KEY_PARTS);
  return `"${k}"`;
}

function value(rand: Rand, depth: number): string {
  const r = rand();
  if (r < 0.45 || depth > 3) return numberToken(rand);
  if (r < 0.55) return pick(rand, ['true', 'false', 'null']);
  if (r < 0.65) return `"${pick(rand, ['text', 'é\\t', '\\ud800', '2021-04-30T17:03:14Z'])}"`;
  if (r < 0.75) return `[${Array.from({ length: Math.floor(rand() * 3) }, () => value(rand, depth + 1)).join(',')}]`;
  return object(rand, depth + 1);
}

function object(rand: Rand, depth: number): string {
  const n = Math.floor(rand() * 4);
  return `{${Array.from({ length: n }, () => `${key(rand)}:${value(rand, depth)}`).join(', ')}}`;
}

const TIMES = ['"2013-06-22T17:03:14.000+02:00"', '"2021-04-30T17:03:14.123456Z"', '1619802194', '1619802194.5', '-3', '1e13', '"2021-01-01T00:00:60Z"', '"2021-1-1"', 'null', '"2021-01-01t00:00:00Z"'];

function payload(rand: Rand): string {
  const parts: string[] = [];
  for (let i = Math.floor(rand() * 6); i > 0; i--) {
    const r = rand();
    if (r < 0.45) parts.push(`${key(rand)}: ${numberToken(rand)}`);
    else if (r < 0.65) parts.push(`${key(rand)}: {${Array.from({ length: Math.floor(rand() * 3) }, () => `${key(rand)}: ${rand() < 0.9 ? numberToken(rand) : value(rand, 3)}`).join(', ')}}`);
    else if (r < 0.75) parts.push(`"time": ${pick(rand, TIMES)}`);
    else if (r < 0.82) parts.push(`"type": "${pick(rand, ['custom', 'é', '\\u0001'])}"`);
    else if (r < 0.9) parts.push(`"properties": ${rand() < 0.8 ? object(rand, 2) : value(rand, 2)}`);
    else parts.push(`${key(rand)}: ${value(rand, 1)}`);
  }
  let text = `{${parts.join(pick(rand, [',', ', ', ',\n  ']))}}`;
  if (rand() < 0.05) text = text.slice(0, Math.floor(rand() * text.length)); // truncated
  if (rand() < 0.03) text = text.replace(',', ',,');
  if (rand() < 0.03) text = `${value(rand, 1)}`;
  return text;
}

function outcome(f: () => Buffer): string {
  try {
    return `ok ${f().toString('utf8')}`;
  } catch (err) {
    assert.ok(err instanceof ConversionError, String(err));
    return `error ${err.message}`;
  }
}

describe('measurement converter differential: native vs TypeScript', () => {
  it('[native] random payloads give the same bytes or the same error', (t) => {
    if (!NATIVE.binding) return t.skip(`addon not built (${NATIVE.reason ?? ''})`);
    const converter = new MeasurementConverter(NATIVE.binding);
    const rand = prng(424242);
    const contexts: C8yMeasurementContext[] = [
      { topicType: '', now: new Date(1700000000123) },
      { topicType: 'env', units: new Map([['temperature', '°C'], ['Climate.Humidity', '%'], ['a', 'u"nit']]), now: new Date(0) },
      { topicType: 'child', externalSource: { externalId: 'dev:child', type: 'c8y_Serial' }, now: new Date(-1) },
    ];
    let ok = 0;
    let errors = 0;
    const N = 20000;
    for (let i = 0; i < N; i++) {
      const text = payload(rand);
      const bytes = Buffer.from(text, 'utf8');
      const ctx = pick(rand, contexts);
      const theirs = outcome(() => convertWithTypeScript(bytes, ctx));
      assert.equal(outcome(() => converter.convert(bytes, ctx)), theirs, text);
      if (theirs.startsWith('ok')) ok++;
      else errors++;
    }
    const handedBack = converter.fallbacks.fallback + converter.fallbacks.syntax;
    t.diagnostic(`${ok} converted, ${errors} rejected; ${converter.fallbacks.fallback} fallback + ${converter.fallbacks.syntax} syntax handed to the TS path`);
    assert.ok(ok > N / 10 && errors > N / 10, `${ok} ok, ${errors} errors`);
    assert.ok(handedBack < N / 2, `${handedBack} handed back`);
  });

  it('[native] every double prints as JavaScript prints it', (t) => {
    if (!NATIVE.binding) return t.skip(`addon not built (${NATIVE.reason ?? ''})`);
    const converter = new MeasurementConverter(NATIVE.binding);
    const rand = prng(77);
    const view = new DataView(new ArrayBuffer(8));
    const ctx: C8yMeasurementContext = { topicType: 't', now: new Date(0) };
    for (let i = 0; i < 20000; i++) {
      view.setUint32(0, Math.floor(rand() * 2 ** 32));
      view.setUint32(4, Math.floor(rand() * 2 ** 32));
      const v = view.getFloat64(0);
      if (!Number.isFinite(v)) continue;
      // Input in another notation than the output (toExponential with all digits), so parsing is tested too.
      const payloadText = `{"v": ${v.toExponential(16)}, "w": ${String(v)}}`;
      const out = converter.convert(Buffer.from(payloadText), ctx).toString();
      const expected = JSON.stringify({ v: Number(v.toExponential(16)), w: v });
      assert.ok(out.includes(`"v":{"v":{"value":${JSON.parse(expected).v === 0 ? 0 : String(Number(v.toExponential(16)))}}}`), `${payloadText} → ${out}`);
      assert.ok(out.includes(`"w":{"w":{"value":${String(v === 0 ? 0 : v)}}}`), `${payloadText} → ${out}`);
    }
  });
});
