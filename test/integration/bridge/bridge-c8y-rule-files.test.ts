import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BRIDGE_HEALTH, BridgeDevice } from '../../helpers/bridge-device';
import { runCli } from '../../helpers/daemon';
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

  it('a rule file that does not parse stops the mapper at start with one line naming it, before any connection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tedge-bridge-bad-rules-'));
    try {
      mkdirSync(join(dir, 'mappers', 'c8y', 'bridge'), { recursive: true });
      writeFileSync(join(dir, 'mappers', 'c8y', 'bridge', 'bad.toml'), '[[rule]\ntopic = "x"\n');
      const ups = device.probe.texts(BRIDGE_HEALTH).length;
      const run = await runCli('tedge-mapper', ['c8y'], { ...device.env, TEDGE_CONFIG_DIR: dir, TEDGE_DATA_PATH: join(dir, 'data'), TEDGE_DEVICE_ID: 'bad-rules' });
      assert.equal(run.code, 1, run.stderr);
      // stderr also carries the log; the error is its one `error:` line.
      const errors = run.stderr.split('\n').filter((l) => l.startsWith('error:'));
      assert.equal(errors.length, 1, run.stderr);
      assert.match(errors[0] ?? '', /^error: invalid TOML in .*mappers\/c8y\/bridge\/bad\.toml \(line 1, column \d+\)/);
      assert.equal(device.probe.texts(BRIDGE_HEALTH).length, ups, 'no bridge health from the refused mapper');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
