import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { payloadText } from '../../../src/core/message';
import { BusProbe } from '../../helpers/bus-probe';
import { CloudSimulator } from '../../helpers/cloud-sim';
import { Daemon } from '../../helpers/daemon';
import { Mosquitto, freePort } from '../../helpers/mosquitto';

const HEALTH = (service: string): string => `te/device/main/service/${service}/status/health`;

/**
 * Two Cumulocity connections of one device, as thin-edge's cloud profiles: the default one and
 * `second` (c8y.profiles.second.*, its own certificate from its own tenant, prefix c8y-second), each
 * served by its own `tedge-mapper c8y [--profile second]` and built-in bridge, configured in a
 * tedge.toml as thin-edge writes it. Each tenant gets what is meant for it, and only that.
 */
describe('tedge-mapper c8y --profile: two tenants, two mappers, one device', { timeout: 90_000 }, () => {
  let first: CloudSimulator;
  let second: CloudSimulator;
  let broker: Mosquitto;
  let probe: BusProbe;
  let dir: string;
  const mappers: Daemon[] = [];

  before(async () => {
    [first, second] = await Promise.all([CloudSimulator.start(), CloudSimulator.start()]);
    broker = await Mosquitto.start();
    dir = mkdtempSync(join(tmpdir(), 'tedge-profiles-it-'));
    const certs = join(dir, 'device-certs');
    mkdirSync(certs);
    first.issueDeviceCertificate('profiles-dev', join(certs, 'tedge-certificate.pem'), join(certs, 'tedge-private-key.pem'));
    second.issueDeviceCertificate('profiles-dev-second', join(certs, 'second-certificate.pem'), join(certs, 'second-private-key.pem'));
    const [proxy1, proxy2] = [await freePort(), await freePort()];
    writeFileSync(
      join(dir, 'tedge.toml'),
      [
        '[c8y]',
        'url = "127.0.0.1"',
        `mqtt = "${first.mqttEndpoint}"`,
        `http = "${first.httpEndpoint}"`,
        `root_cert_path = "${first.caPath}"`,
        `proxy.bind.port = ${proxy1}`,
        '[c8y.profiles.second]',
        'url = "127.0.0.1"',
        `mqtt = "${second.mqttEndpoint}"`,
        `http = "${second.httpEndpoint}"`,
        `root_cert_path = "${second.caPath}"`,
        `proxy.bind.port = ${proxy2}`,
        'bridge.topic_prefix = "c8y-second"',
        `device.cert_path = "${join(certs, 'second-certificate.pem')}"`,
        `device.key_path = "${join(certs, 'second-private-key.pem')}"`,
        '[mqtt.client]',
        `port = ${broker.port}`,
        '[data]',
        `path = "${join(dir, 'data')}"`,
        '[mqtt.bridge.reconnect_policy]',
        'initial_interval = "200ms"',
        '',
      ].join('\n'),
    );
    const services = ['tedge-mapper-c8y', 'tedge-mapper-c8y@second', 'tedge-mapper-bridge-c8y', 'tedge-mapper-bridge-c8y-second'];
    probe = await BusProbe.connect(broker.port, services.map(HEALTH));
    const env = { TEDGE_CONFIG_DIR: dir };
    mappers.push(Daemon.start('tedge-mapper', ['c8y'], env), Daemon.start('tedge-mapper', ['c8y', '--profile', 'second'], env));
    for (const service of services) await probe.waitForText(HEALTH(service), (t) => t.includes('"up"'), 30_000);
  });

  after(async () => {
    for (const m of mappers) if (!m.exited) await m.stop();
    await probe?.close();
    await broker?.stop();
    await Promise.all([first?.stop(), second?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('each mapper reports up on its own health topic, under thin-edge service names', () => {
    for (const service of ['tedge-mapper-c8y', 'tedge-mapper-c8y@second']) assert.match(probe.texts(HEALTH(service)).at(-1) ?? '', /"status":"up"/);
  });

  it('each bridge has its own outbox under data.path', () => {
    assert.ok(existsSync(join(dir, 'data', 'bridge', 'c8y', 'outbox')));
    assert.ok(existsSync(join(dir, 'data', 'bridge', 'c8y-second', 'outbox')));
  });

  it('each tenant creates the device it has a certificate for', async () => {
    await first.waitFor((r) => r.some((m) => m.topic === 's/us' && m.payload.startsWith('500')), 'a 500 from the first bridge');
    await second.waitFor((r) => r.some((m) => m.topic === 's/us' && m.payload.startsWith('500')), 'a 500 from the second bridge');
  });

  it('what is published under a prefix reaches that tenant only', async () => {
    await probe.publish('c8y/s/us', '400,first_only,"for the first tenant"');
    await probe.publish('c8y-second/s/us', '400,second_only,"for the second tenant"');
    await first.waitFor((r) => r.some((m) => m.payload.includes('first_only')), 'the first tenant message');
    await second.waitFor((r) => r.some((m) => m.payload.includes('second_only')), 'the second tenant message');
    // Both arrived where they belong; give a stray copy time to arrive where it does not.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(first.received.filter((m) => m.payload.includes('second_only')).length, 0);
    assert.equal(second.received.filter((m) => m.payload.includes('first_only')).length, 0);
  });

  it("the device's telemetry is mapped for each tenant by its own mapper, once", async () => {
    await probe.publish('te/device/main///m/environment', '{"temperature":21.5}');
    for (const sim of [first, second]) {
      await sim.waitFor((r) => r.some((m) => m.topic === 'measurement/measurements/create' && m.payload.includes('21.5')), 'the measurement');
    }
    await new Promise((r) => setTimeout(r, 500));
    for (const sim of [first, second]) assert.equal(sim.messages('measurement/measurements/create').filter((p) => p.includes('21.5')).length, 1);
  });

  it('tedge run all runs the profile mapper too, in its one process, under the same names', async () => {
    for (const m of mappers) await m.stop();
    const since = probe.received.length;
    const all = Daemon.start('tedge', ['run', 'all', '--no-agent'], { TEDGE_CONFIG_DIR: dir });
    mappers.push(all);
    const upAgain = (service: string): Promise<string> =>
      probe.waitFor(() => probe.received.slice(since).some((r) => r.topic === HEALTH(service) && payloadText(r).includes(`"pid":${all.process.pid}`) && payloadText(r).includes('"up"')), `${service} up in tedge run all`, 30_000).then(() => service);
    await Promise.all(['tedge-mapper-c8y', 'tedge-mapper-c8y@second', 'tedge-mapper-bridge-c8y-second'].map(upAgain));
    await probe.publish('c8y-second/s/us', '400,second_again,"through tedge run all"');
    await second.waitFor((r) => r.some((m) => m.payload.includes('second_again')), 'the second tenant message through tedge run all');
  });
});
