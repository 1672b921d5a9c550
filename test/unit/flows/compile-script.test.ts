import assert from 'node:assert/strict';
import vm from 'node:vm';
import { describe, it } from 'node:test';
import { compileStepModule } from '../../../src/flows/compile-script';

function callbacks(source: string, path = 'step.js'): Record<string, unknown> {
  return vm.runInNewContext(compileStepModule(source, path)) as Record<string, unknown>;
}

describe('compileStepModule', () => {
  for (const [form, source] of [
    ['export function', 'export function onMessage(m) { return m; }'],
    ['export async function', 'export async function onMessage(m) { return m; }'],
    ['export const arrow', 'export const onMessage = (m) => m;'],
    ['export { a as onMessage }', 'function a(m) { return m; }\nexport { a as onMessage };'],
  ] as const) {
    it(`finds onMessage in ${form}`, () => {
      const c = callbacks(source);
      assert.equal(typeof c['onMessage'], 'function');
      assert.equal(c['onInterval'], undefined);
    });
  }

  it('compiles a .ts step (types removed)', () => {
    const c = callbacks('interface M { topic: string }\nexport function onMessage(m: M): M { return m; }\nexport function onInterval(t: Date) { return null; }', 'step.ts');
    assert.equal(typeof c['onMessage'], 'function');
    assert.equal(typeof c['onInterval'], 'function');
  });

  it('refuses imports and modules without callbacks', () => {
    assert.throws(() => compileStepModule("import fs from 'fs';\nexport function onMessage(m) { return m; }", 'a.js'), /cannot import other modules/);
    assert.throws(() => compileStepModule('export const x = 1;', 'a.js'), /exports onMessage/);
  });
});
