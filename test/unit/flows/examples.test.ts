import assert from 'node:assert/strict';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../../helpers/paths';
import { EngineUnderTest } from './engine-support';

/** The flows shipped under packaging/flows-examples, run as `tedge-mapper local` would run them. */
describe('packaging/flows-examples', () => {
  let t: EngineUnderTest;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flows-examples-'));
    cpSync(join(REPO_ROOT, 'packaging', 'flows-examples'), dir, { recursive: true });
    t = new EngineUnderTest(dir);
    await t.engine.sync();
    assert.deepEqual(t.take(), [], 'every example loads');
  });
  after(() => t.close());

  it('modbus-adapter: registers scaled after params.toml.template', async () => {
    await t.send('modbus/pump1/registers', '{"registers":[2301,512,655]}');
    await t.send('modbus/pump1/registers', '2299,500');
    assert.deepEqual(t.take(), [
      '[te/device/pump1///m/modbus] {"voltage":230.1,"current":5.12,"temperature":25.5,"time":"2025-01-01T00:00:00Z"}',
      '[te/device/pump1///m/modbus] {"voltage":229.9,"current":5,"time":"2025-01-01T00:00:00Z"}',
    ]);
  });

  it('unit-converter (a .ts step): SI values, units as retained metadata once', async () => {
    await t.send('sensors/tyre/imperial', '{"pressure_psi":32,"temperature_f":68,"count":3}');
    await t.send('sensors/tyre/imperial', '{"pressure_psi":33,"temperature_f":70,"count":4}');
    assert.deepEqual(t.take(), [
      '[te/device/main///m/tyre/meta] {"pressure":{"unit":"kPa"},"temperature":{"unit":"°C"}}',
      '[te/device/main///m/tyre] {"pressure":220.63,"temperature":20,"count":3}',
      '[te/device/main///m/tyre] {"pressure":227.53,"temperature":21.11,"count":4}',
    ]);
  });

  it('thingsboard: the main device on the device API, a registered child through the gateway API', async () => {
    await t.send('te/device/main///m/env', '{"temperature":21,"Climate":{"humidity":40},"time":1754570846.1}');
    await t.send('te/device/child1//', '{"@type":"child-device","@id":"tedge-child1"}');
    await t.send('te/device/child1///m/env', '{"temperature":19}');
    await t.send('te/device/ghost///m/env', '{"temperature":1}');
    const lines = t.take();
    assert.deepEqual(lines.slice(0, 3), [
      '[tb/v1/devices/me/telemetry] {"ts":1754570846100,"values":{"temperature":21,"Climate.humidity":40}}',
      '[tb/v1/gateway/connect] {"device":"tedge-child1","type":"thin-edge"}',
      '[tb/v1/gateway/telemetry] {"tedge-child1":[{"ts":1735689600000,"values":{"temperature":19}}]}',
    ]);
    assert.match(lines[3] ?? '', /^\[te\/errors\] Flow 'thingsboard\/telemetry', step 'telemetry\.js', .*device\/ghost\/\/ is not registered/);
  });
});
