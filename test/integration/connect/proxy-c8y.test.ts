import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BusProbe } from '../../helpers/bus-probe';
import { CloudSimulator } from '../../helpers/cloud-sim';
import { ConnectDevice } from '../../helpers/connect-device';
import { ConnectProxy } from '../../helpers/connect-proxy';
import { Daemon } from '../../helpers/daemon';
import { Mosquitto, freePort } from '../../helpers/mosquitto';

const DEVICE = `proxy-it-${process.pid}`;
const BRIDGE_HEALTH = 'te/device/main/service/tedge-mapper-bridge-c8y/status/health';

/**
 * `proxy.address` (an HTTP CONNECT proxy that wants a user) on the way to a simulated tenant: `tedge cert
 * upload c8y` (REST), `tedge connect c8y` and the mapper's built-in bridge (MQTT, as thin-edge's built-in
 * bridge does), and the mapper's HTTP side behind `tedge http`; `proxy.no_proxy` goes direct.
 */
describe('proxy.address: the cloud reached through an HTTP CONNECT proxy', { timeout: 60_000 }, () => {
  let sim: CloudSimulator;
  let local: Mosquitto;
  let proxy: ConnectProxy;
  let device: ConnectDevice;
  let mapper: Daemon | undefined;
  const basic = `Basic ${Buffer.from('pu:pp').toString('base64')}`;

  before(async () => {
    sim = await CloudSimulator.start();
    local = await Mosquitto.start();
    proxy = await ConnectProxy.start({ username: 'pu', password: 'pp' });
    device = ConnectDevice.create(sim, local.port, {
      TEDGE_C8Y_HTTP: sim.httpEndpoint,
      TEDGE_PROXY_ADDRESS: proxy.address,
      TEDGE_PROXY_USERNAME: 'pu',
      TEDGE_PROXY_PASSWORD: 'pp',
      TEDGE_C8Y_PROXY_BIND_PORT: String(await freePort()),
    });
    sim.http.users.set('admin', 'adm1n');
    writeFileSync(join(device.dir, 'password'), 'adm1n\n', { mode: 0o600 });
  });
  after(async () => {
    if (mapper && !mapper.exited) await mapper.stop();
    device?.remove();
    await proxy?.stop();
    await local?.stop();
    await sim?.stop();
  });

  it('tedge cert upload c8y goes through the proxy, with its credentials', async () => {
    assert.equal((await device.tedge(['cert', 'create', '--device-id', DEVICE])).code, 0);
    const up = await device.tedge(['cert', 'upload', 'c8y', '--user', 'admin', '--password-file', join(device.dir, 'password')]);
    assert.equal(up.code, 0, up.err);
    assert.ok(proxy.tunnels.length > 0 && proxy.tunnels.every((t) => t.target === sim.httpEndpoint && t.auth === basic), JSON.stringify(proxy.tunnels));
  });

  it('tedge connect c8y checks the MQTT connection through the proxy', async () => {
    const before = proxy.tunnels.length;
    const connected = await device.tedge(['connect', 'c8y']);
    assert.equal(connected.code, 0, `${connected.out}\n${connected.err}`);
    assert.match(connected.out, new RegExp(`proxy: +127\\.0\\.0\\.1:${proxy.port}\\n`));
    assert.ok(proxy.targets().slice(before).includes(sim.mqttEndpoint), proxy.targets().join(' '));
  });

  it('the mapper: its built-in bridge and its HTTP side (behind tedge http) go through the proxy', async () => {
    for (const d of ['data', 'logs', 'run', 'tmp']) mkdirSync(join(device.dir, d), { recursive: true });
    const before = proxy.tunnels.length;
    const probe = await BusProbe.connect(local.port, [BRIDGE_HEALTH]);
    try {
      mapper = Daemon.start('tedge-mapper', ['c8y'], {
        ...device.env,
        TEDGE_CONFIG_DIR: device.dir,
        TEDGE_DATA_PATH: join(device.dir, 'data'),
        TEDGE_LOGS_PATH: join(device.dir, 'logs'),
        TEDGE_RUN_PATH: join(device.dir, 'run'),
        TEDGE_TMP_PATH: join(device.dir, 'tmp'),
      });
      await probe.waitForText(BRIDGE_HEALTH, (t) => t.includes('"up"'), 20_000);
    } finally {
      await probe.close();
    }
    assert.ok(proxy.targets().slice(before).includes(sim.mqttEndpoint), `the bridge tunnel; ${proxy.targets().join(' ')}\n${mapper.output}`);
    // The local proxy listens soon after the bridge is up, not necessarily before.
    let got = await device.tedge(['http', 'get', '/c8y/tenant/currentTenant']);
    for (let i = 0; i < 50 && /ECONNREFUSED/.test(got.err); i++) {
      await new Promise((r) => setTimeout(r, 200));
      got = await device.tedge(['http', 'get', '/c8y/tenant/currentTenant']);
    }
    assert.equal(got.code, 0, got.err);
    assert.equal(JSON.parse(got.out).name, 't-sim');
    assert.ok(proxy.tunnels.slice(before).some((t) => t.target === sim.httpEndpoint && t.auth === basic), proxy.targets().join(' '));
  });

  it('wrong proxy credentials: one line naming the proxy and its 407', async () => {
    const run = await device.tedge(['cert', 'upload', 'c8y', '--user', 'admin', '--password-file', join(device.dir, 'password')], { TEDGE_PROXY_PASSWORD: 'wrong' });
    assert.equal(run.code, 1);
    assert.match(run.err, new RegExp(`HTTP proxy 127\\.0\\.0\\.1:${proxy.port} refused the tunnel to ${sim.httpEndpoint.replace(/\./g, '\\.')}: HTTP 407`));
    assert.equal(run.err.includes('wrong'), false);
  });

  it('with the mosquitto bridge, tedge connect warns that the proxy is not used (as thin-edge)', async () => {
    // Already connected: the command stops after its summary, the warning already given.
    const run = await device.tedge(['connect', 'c8y'], { TEDGE_MQTT_BRIDGE_BUILT_IN: 'false' });
    assert.match(run.out, /proxy\.address is set but the mosquitto bridge does not use it/);
    assert.doesNotMatch(run.out, /\tproxy:/);
  });

  it('proxy.no_proxy naming the host: straight to the cloud', async () => {
    const before = proxy.tunnels.length;
    const direct = await device.tedge(['connect', 'c8y', '--test'], { TEDGE_PROXY_NO_PROXY: '127.0.0.1' });
    assert.equal(direct.code, 0, `${direct.out}\n${direct.err}`);
    assert.equal(proxy.tunnels.length, before);
  });
});
