import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BusProbe } from '../../helpers/bus-probe';
import { CloudSimulator } from '../../helpers/cloud-sim';
import { Daemon, runCli } from '../../helpers/daemon';
import { Mosquitto } from '../../helpers/mosquitto';

const BRIDGE_HEALTH = 'te/device/main/service/tedge-mapper-bridge-tb/status/health';
const MAPPER_HEALTH = 'te/device/main/service/tedge-mapper-tb/status/health';

describe('a user-defined mapper with its cloud connection: mapper.toml + bridge/*.toml, against the TLS cloud simulator', { timeout: 60_000 }, () => {
  let sim: CloudSimulator;
  let broker: Mosquitto;
  let probe: BusProbe;
  let mapper: Daemon;
  let configDir: string;
  let env: Record<string, string>;

  before(async () => {
    sim = await CloudSimulator.start();
    broker = await Mosquitto.start();
    configDir = mkdtempSync(join(tmpdir(), 'tedge-user-bridge-it-'));
    const dir = join(configDir, 'mappers', 'tb');
    mkdirSync(join(dir, 'flows'), { recursive: true });
    mkdirSync(join(dir, 'bridge'));
    // The simulator's broker requires a client certificate of its CA: relative paths, resolved against the mapper dir.
    sim.issueDeviceCertificate('tb-device-1', join(dir, 'cert.pem'), join(dir, 'key.pem'));
    writeFileSync(
      join(dir, 'mapper.toml'),
      `url = "${sim.mqttEndpoint}"\n[device]\ncert_path = "cert.pem"\nkey_path = "key.pem"\nroot_cert_path = "${sim.caPath}"\n[bridge]\ntopic_prefix = "v1/devices/me"\nrpc = true\ngroups = ["alpha", "beta"]\n`,
    );
    writeFileSync(
      join(dir, 'bridge', 'rules.toml'),
      [
        'local_prefix = "tb/"',
        'remote_prefix = "${mapper.bridge.topic_prefix}/"',
        '[[rule]]',
        'topic = "telemetry"',
        'direction = "outbound"',
        '[[rule]]',
        'topic = "rpc/request/#"',
        'direction = "inbound"',
        'if = "${mapper.bridge.rpc}"',
        '[[rule]]',
        'topic = "${mapper.device.id}/attributes"',
        'direction = "outbound"',
        'remote_prefix = "attrs/"',
        '[[rule]]',
        'topic = "never"',
        'direction = "outbound"',
        "if = \"${connection.auth_method} == 'password'\"",
        '[[template_rule]]',
        'for = "${mapper.bridge.groups}"',
        'topic = "groups/${item}"',
        'direction = "outbound"',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'flows', 'telemetry.toml'), 'input.mqtt.topics = ["te/+/+/+/+/m/+"]\n[[steps]]\nscript = "telemetry.js"\n');
    writeFileSync(join(dir, 'flows', 'telemetry.js'), 'export function onMessage(m) { return [{ topic: "tb/telemetry", payload: m.payload }, { topic: "tb/never", payload: m.payload }]; }');
    env = {
      TEDGE_CONFIG_DIR: configDir,
      TEDGE_MQTT_CLIENT_PORT: String(broker.port),
      TEDGE_DATA_PATH: join(configDir, 'data'),
      TEDGE_DEVICE_ID: 'not-the-client-id',
      TEDGE_MQTT_BRIDGE_RECONNECT_POLICY_INITIAL_INTERVAL: '200ms',
      TEDGE_MQTT_BRIDGE_RECONNECT_POLICY_MAXIMUM_INTERVAL: '1s',
    };
    probe = await BusProbe.connect(broker.port, ['tb/#', BRIDGE_HEALTH, MAPPER_HEALTH]);
    mapper = Daemon.start('tedge-mapper', ['tb'], env);
    await probe.waitForText(BRIDGE_HEALTH, (t) => t.includes('"up"') && t.includes(`"pid":${mapper.process.pid}`), 20_000);
    await probe.waitForText(MAPPER_HEALTH, (t) => t.includes('"up"'), 10_000);
  });

  after(async () => {
    if (mapper !== undefined && !mapper.exited) await mapper.stop();
    await probe?.close();
    await broker?.stop();
    await sim?.stop();
    rmSync(configDir, { recursive: true, force: true });
  });

  it("a flow's output on a local topic reaches the cloud through the bridge rules; a rule whose if is false is not bridged", async () => {
    await probe.publish('te/device/main///m/env', '{"temperature":21}');
    await sim.waitFor((r) => r.some((m) => m.topic === 'v1/devices/me/telemetry'), 'the telemetry');
    assert.deepEqual(sim.messages('v1/devices/me/telemetry'), ['{"temperature":21}']);
    // ${mapper.device.id} is the certificate's CN (no device.id in mapper.toml), not tedge.toml's device.id.
    await probe.publish('tb/tb-device-1/attributes', '{"fw":"1.0"}');
    await sim.waitFor((r) => r.some((m) => m.topic === 'attrs/tb-device-1/attributes'), 'the attributes');
    assert.ok(!sim.received.some((m) => m.topic.endsWith('never')), 'the password-only rule is not bridged with certificate auth');
    assert.ok(existsSync(join(configDir, 'data', 'bridge', 'mappers', 'tb', 'outbox')), 'its own durable outbox');
  });

  it('a [[template_rule]] over a mapper.toml list bridges each item, and only those', async () => {
    // In order on one session: had gamma been bridged, it would reach the cloud before beta.
    await probe.publish('tb/groups/gamma', 'g');
    await probe.publish('tb/groups/beta', 'b');
    await sim.waitFor((r) => r.some((m) => m.topic === 'v1/devices/me/groups/beta'), 'the beta group');
    assert.ok(!sim.received.some((m) => m.topic.endsWith('groups/gamma')), 'gamma is not in the list');
  });

  it('a cloud message on an inbound rule comes back to the local bus', async () => {
    await sim.publish('v1/devices/me/rpc/request/42', '{"method":"reboot"}');
    assert.equal(await probe.waitForText('tb/rpc/request/42', () => true, 10_000), '{"method":"reboot"}');
  });

  it('a bridge/ without a url in mapper.toml is refused before any connection', async () => {
    const dir = join(configDir, 'mappers', 'nourl');
    mkdirSync(join(dir, 'bridge'), { recursive: true });
    writeFileSync(join(dir, 'mapper.toml'), '[bridge]\nclean_session = true\n');
    writeFileSync(join(dir, 'bridge', 'r.toml'), '[[rule]]\ntopic = "x"\ndirection = "outbound"\n');
    const run = await runCli('tedge-mapper', ['nourl'], env);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /has no url, which the MQTT bridge of bridge\/ needs/);
  });
});
