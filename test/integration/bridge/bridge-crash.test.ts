import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BridgeDevice } from '../../helpers/bridge-device';

const N = 1000;

describe('kill -9 of the mapper in the middle of a burst', { timeout: 180_000 }, () => {
  let device: BridgeDevice;

  before(async () => {
    // No cap on what the local broker queues for the mapper's persistent sessions while it is dead:
    // mosquitto's default (1000) would drop on the broker side, which is not what this test is about.
    device = await BridgeDevice.start({ brokerConfig: 'max_queued_messages 0' });
    device.startMapper();
    await device.bridgeUp();
  });

  after(async () => {
    await device?.stop();
  });

  it(`loses none of ${N} messages; duplicates only across the crash, and within what the bridge counts`, async (t) => {
    let killed = false;
    const publishing = (async () => {
      for (let i = 0; i < N; i++) {
        await device.probe.publish('te/device/main///m/seq', JSON.stringify({ seq: i }));
        if (i % 50 === 0) await new Promise((r) => setTimeout(r, 5)); // a burst, but long enough to be cut
      }
    })();
    await device.sim.waitFor(() => device.receivedSeq().length >= 200, 'the burst under way');
    const before = device.receivedSeq().length;
    await device.mapper?.stop('SIGKILL');
    killed = true;
    const atKill = device.receivedSeq().length;
    device.startMapper();
    await publishing;
    await device.bridgeUp();
    await device.sim.waitFor(() => new Set(device.receivedSeq()).size >= N, `all ${N} distinct measurements`, 60_000);
    await new Promise((r) => setTimeout(r, 1000)); // late duplicates, if any, arrive too

    const got = device.receivedSeq();
    const distinct = new Set(got);
    assert.ok(killed && before < N, 'killed mid-burst');
    assert.equal(distinct.size, N, 'nothing lost');
    // In order, counting each message at its first arrival.
    const firsts = got.filter((v, i) => got.indexOf(v) === i);
    assert.deepEqual(firsts, Array.from({ length: N }, (_, i) => i));
    // Duplicates only from around the crash, and bounded by the counters of the restarted bridge.
    const duplicates = got.length - distinct.size;
    const dupPositions = got.map((v, i) => (got.indexOf(v) !== i ? i : -1)).filter((i) => i >= 0);
    assert.ok(dupPositions.every((i) => i >= atKill - 200), `duplicates far from the crash: ${dupPositions.slice(0, 10).join(',')}`);
    await device.probe.waitFor(() => device.metrics()['pending_messages'] === 0, 'the metrics after the drain', 20_000);
    const m = device.metrics();
    t.diagnostic(`kill -9 at ${atKill} received: ${duplicates} duplicates; restarted bridge: recovered ${m['recovered_messages']}, local redelivered ${m['local_redelivered_messages']}, possible_duplicates ${m['possible_duplicates']}`);
    // The mapper's own input session may replay a message whose output it had already handed to the
    // broker (kill -9 between its output PUBLISH and its input PUBACK): a few more, never many.
    assert.ok(duplicates <= Number(m['possible_duplicates']) + 10, `${duplicates} duplicates, bridge counted ${m['possible_duplicates']}`);
  });
});
