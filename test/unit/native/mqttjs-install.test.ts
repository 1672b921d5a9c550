/**
 * installIntoMqttJs(): an MQTT.js client then parses with the compatible parser and writes with its
 * writeToStream. Driven over an in-memory duplex (no broker): the test plays the server's bytes.
 */
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { MqttClient } from 'mqtt';
import * as mqttPacket from 'mqtt-packet';
import { installIntoMqttJs, parser, writeToStream } from '../../../src/native/mqtt-packet';

/** A duplex whose writes are collected and whose reads are fed by the test. */
class FakeSocket extends Duplex {
  readonly written: Buffer[] = [];
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.written.push(chunk);
    done();
  }
  feed(bytes: Buffer): void {
    this.push(bytes);
  }
}

describe('MQTT.js on the compatible module', () => {
  it('receives messages parsed by parser() and sends through writeToStream()', async () => {
    const uninstall = installIntoMqttJs();
    const socket = new FakeSocket();
    try {
      assert.equal((mqttPacket as unknown as { parser: unknown }).parser, parser);
      assert.equal((mqttPacket as unknown as { writeToStream: unknown }).writeToStream, writeToStream);
      const client = new MqttClient(() => socket as never, { protocolVersion: 4, reconnectPeriod: 0, keepalive: 0, clientId: 'test' });
      const received: Array<[string, string]> = [];
      client.on('message', (topic, payload) => received.push([topic, payload.toString()]));
      await new Promise((resolve) => setImmediate(resolve));
      const connect = mqttPacket.parser();
      const sent: mqttPacket.Packet[] = [];
      connect.on('packet', (p: mqttPacket.Packet) => sent.push(p));
      connect.parse(Buffer.concat(socket.written));
      assert.equal(sent[0]?.cmd, 'connect');
      const frames = Buffer.concat([
        mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }),
        mqttPacket.generate({ cmd: 'publish', topic: 'te/device/main///m/env', payload: Buffer.from('{"t":1}'), qos: 0, retain: false, dup: false }),
        mqttPacket.generate({ cmd: 'publish', topic: 'te/device/main///e/boot', payload: Buffer.from('{}'), qos: 0, retain: false, dup: false }),
      ]);
      socket.feed(frames.subarray(0, 7)); // split inside the first PUBLISH
      socket.feed(frames.subarray(7));
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(received, [
        ['te/device/main///m/env', '{"t":1}'],
        ['te/device/main///e/boot', '{}'],
      ]);
      socket.written.length = 0;
      await new Promise<void>((resolve, reject) => client.publish('out/topic', 'hello', { qos: 0 }, (err) => (err ? reject(err) : resolve())));
      assert.deepEqual(Buffer.concat(socket.written), mqttPacket.generate({ cmd: 'publish', topic: 'out/topic', payload: Buffer.from('hello'), qos: 0, retain: false, dup: false }));
      client.end(true);
    } finally {
      uninstall();
      socket.destroy();
    }
    assert.notEqual((mqttPacket as unknown as { parser: unknown }).parser, parser);
  });
});
