import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BridgeDevice } from '../../helpers/bridge-device';

const MAX_BYTES = 32 * 1024;
const N = 600;

describe('the outbox bound during a long cloud outage', { timeout: 120_000 }, () => {
  let device: BridgeDevice;

  before(async () => {
    device = await BridgeDevice.start({ env: { TEDGE_MQTT_BRIDGE_OUTBOX_MAX_BYTES: String(MAX_BYTES) } });
    device.startMapper();
    await device.bridgeUp();
  });

  after(async () => {
    await device?.stop();
  });

  it('drops the oldest messages beyond the bound, counts them, and delivers the newest in order', async (t) => {
    await device.sim.stopBroker();
    await device.probe.waitFor(() => device.healthStatuses().at(-1) === 'down', 'the bridge down');
    for (let i = 0; i < N; i++) await device.probe.publish('te/device/main///m/seq', JSON.stringify({ seq: i }));
    await device.probe.waitFor(() => Number(device.metrics()['dropped_messages']) > 0 && Number(device.metrics()['stored_messages']) >= N, 'drops reported', 20_000);
    const during = device.metrics();
    assert.ok(Number(during['pending_bytes']) <= MAX_BYTES, `pending ${during['pending_bytes']} within the bound`);
    assert.equal(during['connected'], false);

    await device.sim.startBroker();
    await device.bridgeUp();
    await device.probe.waitFor(() => device.metrics()['pending_messages'] === 0 && device.metrics()['connected'] === true, 'the outbox drained', 30_000);
    const got = device.receivedSeq();
    const first = got[0] ?? N;
    // What arrives is the newest messages, contiguous and in order: the oldest were dropped.
    assert.deepEqual(got, Array.from({ length: N - first }, (_, i) => first + i));
    assert.ok(first > 0, 'some were dropped');
    const m = device.metrics();
    // Every missing measurement is counted (the count may also include the mapper's other messages).
    assert.ok(Number(m['dropped_messages']) >= first, `dropped_messages ${m['dropped_messages']} counts the ${first} missing`);
    assert.match(device.mapper?.output ?? '', /outbox full: dropped the oldest messages/);
    t.diagnostic(`bound ${MAX_BYTES} B: ${first} oldest of ${N} dropped (counter ${m['dropped_messages']}), ${got.length} delivered`);
  });
});
