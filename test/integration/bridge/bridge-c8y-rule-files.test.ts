import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BridgeDevice } from '../../helpers/bridge-device';
import { REPO_ROOT } from '../../helpers/paths';

describe("tedge-mapper c8y's built-in bridge with rule files in mappers/c8y/bridge/, against the cloud simulator", { timeout: 60_000 }, () => {
  let device: BridgeDevice;

  before(async () => {
    device = await BridgeDevice.start({ probeTopics: ['c8y/custom/#'] });
    const bridgeDir = join(device.configDir, 'mappers', 'c8y', 'bridge');
    mkdirSync(bridgeDir, { recursive: true });
    // A device migrated from thin-edge 2.x: its mapper installed mqtt-core.toml (and its template); the user added extra.toml.
    const thinEdge = join(REPO_ROOT, 'test', 'fixtures', 'thin-edge-bridge', 'c8y', 'mqtt-core.toml');
    for (const name of ['mqtt-core.toml', 'mqtt-core.toml.template']) copyFileSync(thinEdge, join(bridgeDir, name));
    writeFileSync(
      join(bridgeDir, 'extra.toml'),
      'local_prefix = "${mapper.bridge.topic_prefix}/"\n[[rule]]\ntopic = "custom/out/#"\ndirection = "outbound"\n[[rule]]\ntopic = "custom/in/#"\ndirection = "inbound"\n',
    );
    device.startMapper();
    await device.bridgeUp();
  });

  after(async () => {
    await device?.stop();
  });

  it("a user's extra topics are bridged both ways", async () => {
    await device.probe.publish('c8y/custom/out/a', 'to the cloud');
    await device.sim.waitFor((r) => r.some((m) => m.topic === 'custom/out/a'), 'the extra outbound topic');
    await device.sim.publish('custom/in/b', 'from the cloud');
    assert.equal(await device.probe.waitForText('c8y/custom/in/b', () => true, 10_000), 'from the cloud');
  });

  it("a topic both the built-in rules and thin-edge's mqtt-core.toml bridge reaches the cloud once", async () => {
    await device.probe.publish('c8y/measurement/measurements/create', '{"marker":"once"}');
    await device.probe.publish('c8y/custom/out/after', 'after');
    // In order on one session: a duplicate of the measurement would have arrived before this one.
    await device.sim.waitFor((r) => r.some((m) => m.topic === 'custom/out/after'), 'the message after');
    assert.deepEqual(device.sim.messages('measurement/measurements/create').filter((p) => p.includes('"marker":"once"')), ['{"marker":"once"}']);
  });
});
