import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BusProbe } from '../../helpers/bus-probe';
import { Daemon, runCli } from '../../helpers/daemon';
import { Mosquitto } from '../../helpers/mosquitto';

const STALE_BRIDGE_HEALTH = 'te/device/main/service/tedge-mapper-bridge-acme/status/health';

describe('a user-defined mapper: tedge-mapper <name> with <config-dir>/mappers/<name>/{mapper.toml,flows/}', () => {
  let broker: Mosquitto;
  let probe: BusProbe;
  let mapper: Daemon;
  let configDir: string;
  let env: Record<string, string>;

  before(async () => {
    broker = await Mosquitto.start();
    configDir = mkdtempSync(join(tmpdir(), 'tedge-user-mapper-it-'));
    const dir = join(configDir, 'mappers', 'acme');
    mkdirSync(join(dir, 'flows'), { recursive: true });
    writeFileSync(join(dir, 'mapper.toml'), '[device]\nid = "acme-007"\ncert_path = "cert.pem"\n[bridge]\ntopic_prefix = "acme/v1"\n');
    writeFileSync(join(dir, 'flows', 'up.toml'), 'input.mqtt.topics = ["te/+/+/+/+/m/+"]\n[config]\ndevice = "${mapper.device.id}"\ncert = "${mapper.device.cert_path}"\nprefix = "${mapper.bridge.topic_prefix}"\n[[steps]]\nscript = "up.js"\n');
    writeFileSync(join(dir, 'flows', 'up.js'), 'export function onMessage(m, c) { return { topic: `${c.config.prefix}/${c.config.device}`, payload: c.config.cert + " " + new TextDecoder().decode(m.payload) }; }');
    env = { TEDGE_CONFIG_DIR: configDir, TEDGE_MQTT_CLIENT_PORT: String(broker.port) };
    probe = await BusProbe.connect(broker.port, ['acme/#', 'te/device/main/service/tedge-mapper-acme/status/health', STALE_BRIDGE_HEALTH]);
    // What a bridge of an earlier run (with bridge/) left retained.
    await probe.publish(STALE_BRIDGE_HEALTH, '{"status":"up"}', { retain: true });
    mapper = Daemon.start('tedge-mapper', ['acme'], env);
    await probe.waitForText('te/device/main/service/tedge-mapper-acme/status/health', (t) => t.includes('"up"'));
  });

  after(async () => {
    await mapper.stop();
    await probe.close();
    await broker.stop();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('runs its flows with ${mapper.*} from mapper.toml (paths resolved against the mapper directory)', async () => {
    await probe.publish('te/device/main///m/env', '{"t":1}');
    const out = await probe.waitForText('acme/v1/acme-007');
    assert.equal(out, `${join(configDir, 'mappers', 'acme', 'cert.pem')} {"t":1}`);
    const run = await runCli('tedge', ['flows', 'test', '--mapper', 'acme', 'te/device/main///m/env', '{"t":1}'], env);
    assert.equal(run.stdout, `[acme/v1/acme-007] ${out}\n`, run.stderr);
  });

  it('without bridge/ no cloud connection: the retained health of an earlier bridge is cleared', async () => {
    await probe.waitFor(() => probe.texts(STALE_BRIDGE_HEALTH).at(-1) === '', 'the bridge health cleared');
  });

  it('a name without a mapper directory, or reserved, is refused', async () => {
    assert.match((await runCli('tedge-mapper', ['nope'], env)).stderr, /no mapper 'nope': .* has neither mapper\.toml nor flows\//);
    const reserved = await runCli('tedge-mapper', ['bridge-x'], env);
    assert.equal(reserved.code, 2);
  });
});
