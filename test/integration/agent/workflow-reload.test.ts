import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { BusProbe } from '../../helpers/bus-probe';
import { AgentUnderTest, json } from '../../helpers/agent-under-test';

const ERRORS = 'te/errors';

/** Workflow files added, changed, broken and removed while the real tedge-agent runs; seen only through MQTT. */
describe('workflows: hot reload and broken files (process, real mosquitto)', { timeout: 60_000 }, () => {
  let device: AgentUnderTest;
  let counter = 0;

  beforeEach(async () => {
    device = await AgentUnderTest.start('workflow');
  });

  afterEach(async () => {
    await device.close();
  });

  function greet(version: string): string {
    return `operation = "greet"
[init]
script = "printf ':::begin-tedge:::\\\\n{\\"greeting\\":\\"${version}\\"}\\\\n:::end-tedge:::\\\\n'"
on_success = "successful"
`;
  }

  /** Runs greet until it answers `want` (the reload is asynchronous): the greeting it got. */
  async function greeting(p: BusProbe, want: string): Promise<string> {
    const deadline = Date.now() + 10_000;
    let got = '';
    while (Date.now() < deadline) {
      const done = await device.runCommand(p, 'greet', `g${++counter}`, { status: 'init' });
      got = String(done['greeting']);
      if (got === want) return got;
      await new Promise((r) => setTimeout(r, 200));
    }
    return got;
  }

  it('a changed file is reloaded; a broken file is reported naming file, state and key while the others work', async () => {
    device.workflow('greet.toml', greet('v1'));
    device.workflow('broken.toml', 'operation = "broken"\n[init]\naction = "proceed"\non_success = "nowhere"\n');
    const early = await device.probe([ERRORS]);
    await device.startAgent();
    const p = await device.probe(['te/device/main///cmd/+', 'te/device/main///cmd/+/+', ERRORS]);
    const reported = await early.waitForText(ERRORS, (t) => t.includes('broken.toml'));
    assert.match(reported, /invalid workflow in .*operations \(not served\): broken\.toml: state 'init': on_success: no state 'nowhere' in this workflow/);
    assert.match(device.agent?.output ?? '', /broken\.toml: state 'init': on_success/);
    assert.equal(await greeting(p, 'v1'), 'v1');
    assert.equal(p.texts('te/device/main///cmd/broken').length, 0, 'a broken file adds no capability');

    // Changed: the new version runs.
    device.workflow('greet.toml', greet('v2'));
    assert.equal(await greeting(p, 'v2'), 'v2');

    // Broken: reported, the previous valid version keeps running.
    device.workflow('greet.toml', 'operation = "greet"\n[init\n');
    const bad = await p.waitForText(ERRORS, (t) => t.includes('greet.toml'));
    assert.match(bad, /invalid workflow in .*operations \(the previous version of the file is kept\): invalid TOML in greet\.toml \(line 2/);
    assert.equal(await greeting(p, 'v2'), 'v2');

    // Fixed: served, its capability published.
    device.workflow('broken.toml', 'operation = "broken"\n[init]\naction = "proceed"\non_success = "successful"\n');
    await p.waitForText('te/device/main///cmd/broken', (t) => t === '{}');
    const fixed = await device.runCommand(p, 'broken', 'b1', { status: 'init' });
    assert.equal(fixed['status'], 'successful');
  });

  it('a new file adds its operation to the capabilities; a removed file withdraws it', async () => {
    await device.startAgent();
    const p = await device.probe(['te/device/main///cmd/+', 'te/device/main///cmd/+/+']);
    device.workflow('fresh_op.toml', 'operation = "fresh_op"\n[init]\naction = "proceed"\n');
    await p.waitForText('te/device/main///cmd/fresh_op', (t) => t === '{}');
    assert.equal((await device.runCommand(p, 'fresh_op', 'f1', { status: 'init' }))['status'], 'successful');
    rmSync(device.path('config', 'operations', 'fresh_op.toml'));
    await p.waitFor(() => p.texts('te/device/main///cmd/fresh_op').at(-1) === '', 'the capability cleared');
    // Not served any more: a request is left to whoever else serves it.
    await p.publish('te/device/main///cmd/fresh_op/f2', '{"status":"init"}', { retain: true });
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(p.texts('te/device/main///cmd/fresh_op/f2').map((t) => json(t)['status']), ['init']);
  });
});
