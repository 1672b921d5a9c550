/** The one loader: TEDGE_NATIVE=0, missing files and reasons; which path this run uses is printed. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadNative } from '../../../src/native/binding';
import { isNative } from '../../../src/native/mqtt-packet';
import { NATIVE } from './support';

describe('native loader', () => {
  it('says which hot path this test run uses', (t) => {
    t.diagnostic(NATIVE.binding ? `native addon: ${NATIVE.path ?? ''} (${NATIVE.binding.arch})` : `TypeScript path: ${NATIVE.reason ?? ''}`);
    assert.equal(isNative, NATIVE.binding !== undefined || process.env['TEDGE_NATIVE'] === '0' ? isNative : false);
  });

  it('TEDGE_NATIVE=0 forces the TypeScript path', () => {
    assert.deepEqual(loadNative({ env: { TEDGE_NATIVE: '0' } }), { binding: undefined, reason: 'TEDGE_NATIVE=0' });
  });

  it('returns the reason instead of throwing or logging when nothing loads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tedge-native-'));
    const broken = join(dir, 'broken.node');
    writeFileSync(broken, 'not an ELF file');
    const res = loadNative({ env: {}, candidates: [join(dir, 'missing.node'), broken] });
    assert.equal(res.binding, undefined);
    assert.match(res.reason ?? '', /missing\.node: not found/);
    assert.match(res.reason ?? '', /broken\.node: /);
  });

  it('loads the built addon through TEDGE_NATIVE_PATH', (t) => {
    if (!NATIVE.path) return t.skip(`addon not built (${NATIVE.reason ?? ''})`);
    const res = loadNative({ env: { TEDGE_NATIVE_PATH: NATIVE.path }, candidates: [NATIVE.path] });
    assert.equal(res.path, NATIVE.path);
    assert.equal(res.binding?.abiVersion, 1);
  });
});
