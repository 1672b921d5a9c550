/** The batch API: one parse() per chunk, accessors instead of packet objects, bounded tables. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as mqttPacket from 'mqtt-packet';
import { FrameBatch } from '../../../src/native/frame-batch';
import { createFrameCodec } from '../../../src/native/frame-codec';
import { IMPLEMENTATIONS, prng, randomCuts, split } from './support';

function publishStream(topics: number, count: number, seed: number): { bytes: Buffer; expected: Array<[string, string]> } {
  const rand = prng(seed);
  const frames: Buffer[] = [];
  const expected: Array<[string, string]> = [];
  for (let i = 0; i < count; i++) {
    const topic = `te/device/d${Math.floor(rand() * topics)}///m/env`;
    const payload = `{"v":${i}}`;
    const qos = i % 3 === 0 ? 1 : 0;
    frames.push(mqttPacket.generate({ cmd: 'publish', topic, payload: Buffer.from(payload), qos, messageId: qos ? 1 + (i % 60000) : undefined, retain: false, dup: false } as mqttPacket.IPublishPacket));
    if (i % 10 === 0) frames.push(mqttPacket.generate({ cmd: 'puback', messageId: 1 + i }));
    expected.push([topic, payload]);
  }
  return { bytes: Buffer.concat(frames), expected };
}

for (const impl of IMPLEMENTATIONS) {
  describe(`FrameBatch [${impl.name}]`, () => {
    it('reads topic and payload of every PUBLISH across chunk boundaries and table refills', (t) => {
      if (impl.skip) return t.skip(impl.skip);
      const { bytes, expected } = publishStream(40, 3000, 1);
      const rand = prng(2);
      for (const capacity of [1, 5, 256]) {
        const batch = new FrameBatch(createFrameCodec(impl.binding, { internTopics: true, capacity, protocolVersion: 4 }));
        assert.equal(batch.isNative, impl.name === 'native');
        const got: Array<[string, string]> = [];
        let acks = 0;
        for (const chunk of split(bytes, randomCuts(rand, bytes.length, 900))) {
          for (let n = batch.parse(chunk); n > 0; n = batch.resume()) {
            for (let i = 0; i < n; i++) {
              assert.equal(batch.isError(i), false);
              if (batch.type(i) === 3) got.push([batch.topic(i), batch.payload(i).toString()]);
              else if (batch.type(i) === 4) acks++;
            }
          }
        }
        assert.deepEqual(got, expected);
        assert.equal(acks, 300);
        assert.equal(batch.pending, 0);
      }
    });

    it('keeps topics right when the native topic table starts over (more than 1024 topics)', (t) => {
      if (impl.skip) return t.skip(impl.skip);
      const { bytes, expected } = publishStream(5000, 6000, 3);
      const batch = new FrameBatch(createFrameCodec(impl.binding, { internTopics: true, protocolVersion: 4 }));
      const got: string[] = [];
      for (const chunk of split(bytes, randomCuts(prng(4), bytes.length, 5000))) {
        for (let n = batch.parse(chunk); n > 0; n = batch.resume()) {
          // Read only every other topic: the table must stay in step regardless.
          for (let i = 0; i < n; i++) if (batch.type(i) === 3) got.push(got.length % 2 === 0 ? batch.topic(i) : '-');
        }
      }
      assert.deepEqual(got, expected.map(([topic], i) => (i % 2 === 0 ? topic : '-')));
    });

    it('gives whole packets for the rare types and reports a malformed frame', (t) => {
      if (impl.skip) return t.skip(impl.skip);
      const frames = Buffer.concat([
        mqttPacket.generate({ cmd: 'suback', messageId: 5, granted: [0, 1], properties: { reasonString: 'ok' } }, { protocolVersion: 5 }),
        Buffer.from([0x60, 0x02, 0x00, 0x01]), // PUBREL with flags 0
      ]);
      const batch = new FrameBatch(createFrameCodec(impl.binding, { protocolVersion: 5 }));
      assert.equal(batch.parse(frames), 2);
      const suback = batch.packet(0);
      assert.deepEqual({ ...suback }, { cmd: 'suback', retain: false, qos: 0, dup: false, length: 10, topic: null, payload: null, granted: [0, 1], messageId: 5, properties: { reasonString: 'ok' } });
      assert.equal(batch.isError(1), true);
      assert.equal(batch.errorMessage(1), 'Invalid header flag bits, must be 0x2 for pubrel packet');
    });
  });
}
