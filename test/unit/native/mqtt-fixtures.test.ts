/**
 * test/fixtures/mqtt/*.json (the same files the C++ host tests read): mqtt-packet defines the
 * expected packets; the compatible parser must emit deep-equal packets (same class, keys, order,
 * values), the same errors and the same parse() return values, whole and split at every byte, on
 * the native codec and on the TypeScript reference. Frames mqtt-packet regenerates byte for byte
 * must come out of our generate() byte for byte too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as mqttPacket from 'mqtt-packet';
import { Parser, generate } from '../../../src/native/mqtt-packet';
import {
  IMPLEMENTATIONS,
  type MqttFixture,
  fixturePacket,
  frameBytes,
  loadMqttFixtures,
  normaliseFixtureJson,
  runParser,
  split,
  toFixtureJson,
} from './support';

const fixtures = loadMqttFixtures();

function optsOf(c: MqttFixture): { protocolVersion: number } | undefined {
  return c.protocolVersion ? { protocolVersion: c.protocolVersion } : undefined;
}

describe('MQTT frame fixtures', () => {
  it('finds the fixture files', () => {
    assert.ok(fixtures.length >= 90, `fixtures: ${fixtures.length}`);
  });

  describe('mqtt-packet agrees with the fixtures (they describe its behaviour)', () => {
    for (const c of fixtures) {
      if (c.mqttPacket) continue;
      it(`${c.file}: ${c.name}`, () => {
        const out = runParser(mqttPacket.parser(optsOf(c)), [frameBytes(c.frame)]);
        assert.deepEqual(toFixtureJson(out.packets), normaliseFixtureJson(c.packets));
        assert.deepEqual(out.errors, c.error ? [c.error] : []);
        if (c.pending !== undefined) assert.equal(out.returns[0], c.pending);
      });
    }
  });

  for (const impl of IMPLEMENTATIONS) {
    describe(`compatible parser [${impl.name}]`, () => {
      for (const c of fixtures) {
        it(`${c.file}: ${c.name}`, (t) => {
          if (impl.skip) return t.skip(impl.skip);
          const bytes = frameBytes(c.frame);
          const opts = { ...optsOf(c), ...(c.maxPacketSize ? { maxPacketSize: c.maxPacketSize } : {}) };
          const whole = runParser(new Parser(opts, impl.binding), [bytes]);
          assert.equal(whole.threw, undefined);
          if (c.mqttPacket) {
            // mqtt-packet reads past this frame or has no such option: the fixture holds our behaviour.
            assert.deepEqual(toFixtureJson(whole.packets), normaliseFixtureJson(c.packets));
            assert.deepEqual(whole.errors, c.error ? [c.error] : []);
            return;
          }
          const reference = runParser(mqttPacket.parser(optsOf(c)), [bytes]);
          assert.deepStrictEqual(whole, reference);
          // Split at every position (sampled for big frames): same packets and errors.
          const step = bytes.length > 600 ? Math.ceil(bytes.length / 97) : 1;
          for (let cut = 1; cut < bytes.length; cut += step) {
            const chunks = split(bytes, [cut]);
            const ours = runParser(new Parser(opts, impl.binding), chunks);
            const theirs = runParser(mqttPacket.parser(optsOf(c)), chunks);
            assert.deepStrictEqual(ours, theirs, `split at ${cut}`);
          }
          if (bytes.length <= 600) {
            const bytewise = split(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1));
            assert.deepStrictEqual(runParser(new Parser(opts, impl.binding), bytewise).packets, reference.packets);
          }
        });
      }
    });
  }

  describe('generate() is byte-identical to mqtt-packet', () => {
    for (const c of fixtures) {
      if (c.generate !== true) continue;
      it(`${c.file}: ${c.name}`, () => {
        const packet = fixturePacket(c.packets[0]) as mqttPacket.Packet;
        const theirs = mqttPacket.generate(packet, optsOf(c));
        assert.deepEqual(generate(packet, optsOf(c)), theirs);
        assert.deepEqual(theirs, frameBytes(c.frame));
      });
    }
  });
});
