import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BRIDGE_METRICS, BridgeDevice } from '../../helpers/bridge-device';

const N = 200;

describe('tedge-mapper c8y with its built-in bridge, against the cloud simulator', { timeout: 120_000 }, () => {
  let device: BridgeDevice;

  before(async () => {
    device = await BridgeDevice.start({ probeTopics: ['te/+/+/+/+/cmd/+/+'] });
    device.startMapper();
    await device.bridgeUp();
  });

  after(async () => {
    await device?.stop();
  });

  it('reports the bridge up once connected, and asks for pending operations (500)', async () => {
    assert.deepEqual(device.healthStatuses().slice(-1), ['up']);
    await device.sim.waitFor(() => device.sim.c8y.pendingRequests >= 1, 'a 500');
  });

  it('delivers local telemetry to the cloud, converted by the mapper', async () => {
    await device.probe.publish('te/device/main///m/environment', '{"temperature":21.5,"time":"2021-04-30T17:03:14Z"}');
    await device.sim.waitFor((r) => r.some((m) => m.topic === 'measurement/measurements/create' && m.payload.includes('21.5')), 'the measurement');
    assert.ok(device.sim.messages('measurement/measurements/create').includes('{"type":"environment","time":"2021-04-30T17:03:14Z","temperature":{"temperature":{"value":21.5}}}'));
    await device.probe.publish('te/device/main///e/login', '{"text":"hello","time":"2021-01-01T05:30:45+00:00"}');
    await device.sim.waitFor((r) => r.some((m) => m.topic === 's/us' && m.payload === '400,login,"hello",2021-01-01T05:30:45+00:00'), 'the event');
  });

  it('delivers a cloud operation to the local te/ command topic', async () => {
    const id = await device.sim.createOperation({ c8y_Restart: {} }, device.deviceId);
    const cmd = await device.probe.waitForText(`te/device/main///cmd/restart/c8y-mapper-${id}`, () => true, 15_000);
    assert.equal((JSON.parse(cmd) as { status: string }).status, 'init');
  });

  it('answers a JWT request (s/uat → 71 on c8y/s/dat)', async () => {
    await device.probe.bus.subscribe(['c8y/s/dat'], 0);
    await device.probe.publish('c8y/s/uat', '', { qos: 0 });
    const jwt = await device.probe.waitForText('c8y/s/dat', (t) => t.startsWith('71,'), 15_000);
    assert.match(jwt, /^71,[\w-]+\.[\w-]+\.[\w-]*$/);
  });

  it(`delivers all of ${N} messages sent during a cloud outage, in order, once it returns; down meanwhile, 500 again after`, async () => {
    const requestsBefore = device.sim.c8y.pendingRequests;
    const seen = device.receivedSeq().length;
    await device.sim.stopBroker();
    await device.probe.waitFor(() => device.healthStatuses().at(-1) === 'down', 'the bridge down');
    for (let i = 0; i < N; i++) await device.probe.publish('te/device/main///m/seq', JSON.stringify({ seq: i }));
    // all stored: the local broker has its PUBACKs, the outbox holds them
    await device.probe.waitFor(() => Number(device.metrics()['pending_messages']) >= N, `${N} pending in the outbox`, 20_000);
    assert.equal(device.receivedSeq().length, seen);
    await device.sim.startBroker();
    await device.bridgeUp();
    await device.sim.waitFor(() => device.receivedSeq().length >= seen + N, `${N} measurements`, 30_000);
    assert.deepEqual(device.receivedSeq().slice(seen), Array.from({ length: N }, (_, i) => i));
    await device.sim.waitFor(() => device.sim.c8y.pendingRequests > requestsBefore, 'a 500 after the reconnect');
    assert.deepEqual(device.healthStatuses().slice(-2), ['down', 'up']);
  });

  it('reports the outbox on its retained metrics topic', async () => {
    await device.probe.waitFor(() => device.metrics()['pending_messages'] === 0 && device.metrics()['connected'] === true, 'an empty outbox', 20_000);
    const m = device.metrics();
    assert.equal(m['dropped_messages'], 0);
    assert.ok(Number(m['delivered_messages']) >= N);
    assert.equal(m['max_bytes'], 64 * 1024 * 1024);
    assert.ok(device.probe.received.some((r) => r.topic === BRIDGE_METRICS), 'metrics published');
  });
});
