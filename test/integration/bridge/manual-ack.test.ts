import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MqttBus } from '../../../src/bus/mqtt-bus';
import { payloadText } from '../../../src/core/message';
import { BusProbe } from '../../helpers/bus-probe';
import { Mosquitto } from '../../helpers/mosquitto';

interface Got {
  text: string;
  ack: () => void;
  redelivered: boolean;
}

async function consumer(port: number, got: Got[]): Promise<MqttBus> {
  const bus = await MqttBus.connect({ host: '127.0.0.1', port, clientId: 'manual-ack-consumer', cleanSession: false, manualAck: true, connectTimeoutMs: 5000 });
  bus.onMessageWithAck((m, ack, redelivered) => got.push({ text: payloadText(m), ack, redelivered }));
  return bus;
}

async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('MqttBus with manual acknowledgements, on a real mosquitto', () => {
  let broker: Mosquitto;
  let probe: BusProbe;

  before(async () => {
    broker = await Mosquitto.start();
    probe = await BusProbe.connect(broker.port);
  });
  after(async () => {
    await probe.close();
    await broker.stop();
  });

  it('gets again, marked as redelivered, exactly what it did not acknowledge before it died', async () => {
    const first: Got[] = [];
    const bus = await consumer(broker.port, first);
    await bus.subscribe(['manual/#'], 1);
    for (let i = 1; i <= 5; i++) await probe.publish('manual/t', `m${i}`);
    await until(() => first.length === 5, 'five messages');
    for (const g of first.slice(0, 3)) g.ack();
    await new Promise((r) => setTimeout(r, 200)); // the PUBACKs reach the broker
    await bus.abort(); // like kill -9: no DISCONNECT
    const second: Got[] = [];
    const again = await consumer(broker.port, second);
    await until(() => second.length === 2, 'the two unacknowledged messages');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(second.map((g) => [g.text, g.redelivered]), [['m4', true], ['m5', true]]);
    for (const g of second) g.ack();
    await again.close();
  });

  it('keeps receiving while acknowledgements are pending, up to the broker in-flight window', async () => {
    const got: Got[] = [];
    const bus = await MqttBus.connect({ host: '127.0.0.1', port: broker.port, clientId: 'manual-ack-window', cleanSession: true, manualAck: true, connectTimeoutMs: 5000 });
    bus.onMessageWithAck((m, ack, redelivered) => got.push({ text: payloadText(m), ack, redelivered }));
    await bus.subscribe(['window/#'], 1);
    for (let i = 0; i < 50; i++) void probe.publish('window/t', `w${i}`);
    await until(() => got.length === 20, 'mosquitto default max_inflight_messages (20)');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(got.length, 20, 'no more than the window without acknowledgements');
    for (let k = 0; got.length < 50 && k < 100; k++) {
      for (const g of got) g.ack();
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const g of got) g.ack();
    assert.deepEqual(got.map((g) => g.text), Array.from({ length: 50 }, (_, i) => `w${i}`));
    await bus.close();
  });
});
