import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../helpers/daemon';
import { MapperUnderTest } from '../../helpers/mapper-under-test';

const STALE_BRIDGE_HEALTH = 'te/device/main/service/tedge-mapper-bridge-acme/status/health';

describe('a user-defined mapper: tedge-mapper <name> with <config-dir>/mappers/<name>/{mapper.toml,flows/}', () => {
  let t: MapperUnderTest;

  before(async () => {
    t = await MapperUnderTest.start('acme', {
      filters: ['acme/#', STALE_BRIDGE_HEALTH],
      files: {
        'mappers/acme/mapper.toml': '[device]\nid = "acme-007"\ncert_path = "cert.pem"\n[bridge]\ntopic_prefix = "acme/v1"\n',
        'mappers/acme/flows/up.toml': 'input.mqtt.topics = ["te/+/+/+/+/m/+"]\n[config]\ndevice = "${mapper.device.id}"\ncert = "${mapper.device.cert_path}"\nprefix = "${mapper.bridge.topic_prefix}"\n[[steps]]\nscript = "up.js"\n',
        'mappers/acme/flows/up.js': 'export function onMessage(m, c) { return { topic: `${c.config.prefix}/${c.config.device}`, payload: c.config.cert + " " + new TextDecoder().decode(m.payload) }; }',
      },
      // What a bridge of an earlier run (with bridge/) left retained.
      retained: { [STALE_BRIDGE_HEALTH]: '{"status":"up"}' },
    });
  });

  after(async () => {
    await t.stop();
  });

  it('runs its flows with ${mapper.*} from mapper.toml (paths resolved against the mapper directory)', async () => {
    await t.probe.publish('te/device/main///m/env', '{"t":1}');
    const out = await t.probe.waitForText('acme/v1/acme-007');
    assert.equal(out, `${join(t.configDir, 'mappers', 'acme', 'cert.pem')} {"t":1}`);
    const run = await runCli('tedge', ['flows', 'test', '--mapper', 'acme', 'te/device/main///m/env', '{"t":1}'], t.env);
    assert.equal(run.stdout, `[acme/v1/acme-007] ${out}\n`, run.stderr);
  });

  it('without bridge/ no cloud connection: the retained health of an earlier bridge is cleared', async () => {
    await t.probe.waitFor(() => t.probe.texts(STALE_BRIDGE_HEALTH).at(-1) === '', 'the bridge health cleared');
  });

  it('a name without a mapper directory, or reserved, is refused', async () => {
    assert.match((await runCli('tedge-mapper', ['nope'], t.env)).stderr, /no mapper 'nope': .* has neither mapper\.toml nor flows\//);
    const reserved = await runCli('tedge-mapper', ['bridge-x'], t.env);
    assert.equal(reserved.code, 2);
  });
});
