/**
 * Differential test of the three MQTT codecs: mqtt-packet (the reference behaviour), the TypeScript
 * reference codec and the native codec, over a seeded corpus of every packet type in 3.1.1 and 5.0,
 * cut into random chunks. Required: identical packets, errors and parse() return values; identical
 * generate() bytes; the two codecs of ours identical word for word; malformed input handled with an
 * 'error' event, never an exception, on both.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import * as mqttPacket from 'mqtt-packet';
import { type FrameCodec, createFrameCodec } from '../../src/native/frame-codec';
import { DESC_WORDS, META_WORDS } from '../../src/native/frame-format';
import { Parser, PublishWriter, generate, writeToStream } from '../../src/native/mqtt-packet';
import { IMPLEMENTATIONS, NATIVE, prng, randomCuts, runParser, split } from '../unit/native/support';
import { randomConnect, randomPacket } from './frame-corpus';

const VERSIONS = [3, 4, 5] as const;
const STREAMS_PER_VERSION = 12;
const PACKETS_PER_STREAM = 150;

interface Stream {
  version: 3 | 4 | 5;
  bytes: Buffer;
  packets: mqttPacket.Packet[];
}

function corpus(seed: number): Stream[] {
  const rand = prng(seed);
  const out: Stream[] = [];
  for (const version of VERSIONS) {
    for (let s = 0; s < STREAMS_PER_VERSION; s++) {
      const packets: mqttPacket.Packet[] = [randomConnect(rand, version)];
      for (let i = 0; i < PACKETS_PER_STREAM; i++) packets.push(randomPacket(rand, version));
      const opts = { protocolVersion: version };
      const bytes = Buffer.concat(packets.map((p, i) => mqttPacket.generate(p, i === 0 ? undefined : opts)));
      out.push({ version, bytes, packets });
    }
  }
  return out;
}

const streams = corpus(20240601);

/** Runs the same chunks through two of our codecs and compares every word they produce. */
function sameWords(a: FrameCodec, b: FrameCodec, chunks: readonly Buffer[], label: string): void {
  for (const chunk of chunks) {
    let offset = 0;
    for (;;) {
      const na = a.parse(chunk, offset);
      const nb = b.parse(chunk, offset);
      assert.equal(na, nb, `${label}: count`);
      for (let i = 0; i < na; i++) {
        const base = i * DESC_WORDS;
        const isError = ((a.desc[base] as number) & (1 << 13)) !== 0;
        const words = isError ? 2 : DESC_WORDS;
        assert.deepEqual(Array.from(a.desc.subarray(base, base + words)), Array.from(b.desc.subarray(base, base + words)), `${label}: descriptor ${i}`);
      }
      assert.deepEqual(Array.from(a.meta.subarray(0, META_WORDS)), Array.from(b.meta.subarray(0, META_WORDS)), `${label}: meta`);
      assert.deepEqual(a.takeRecords(), b.takeRecords(), `${label}: records`);
      const ca = a.takeCarry();
      const cb = b.takeCarry();
      assert.deepEqual(ca ? Buffer.from(ca) : undefined, cb ? Buffer.from(cb) : undefined, `${label}: carry`);
      if (a.meta[1] !== 1) break;
      offset = a.meta[0] as number;
    }
  }
}

describe('frame codec differential: mqtt-packet, TypeScript reference, native', () => {
  it('the corpus covers every packet type in every version', () => {
    const seen = new Set(streams.flatMap((s) => s.packets.map((p) => `${p.cmd}/${s.version}`)));
    for (const cmd of ['connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'suback', 'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect']) {
      for (const v of VERSIONS) assert.ok(seen.has(`${cmd}/${v}`), `${cmd} in ${v}`);
    }
    for (const v of VERSIONS) assert.equal(seen.has(`auth/${v}`), v === 5);
  });

  for (const impl of IMPLEMENTATIONS) {
    it(`[${impl.name}] parses the corpus in random chunks exactly as mqtt-packet does`, (t) => {
      if (impl.skip) return t.skip(impl.skip);
      const rand = prng(7);
      let packets = 0;
      for (const s of streams) {
        for (const mean of [1, 7, 300, 65536]) {
          const chunks = split(s.bytes, randomCuts(rand, s.bytes.length, mean));
          const theirs = runParser(mqttPacket.parser(), chunks);
          const ours = runParser(new Parser(undefined, impl.binding), chunks);
          assert.equal(theirs.errors.length, 0);
          assert.equal(ours.threw, undefined);
          assert.deepStrictEqual(ours, theirs, `v${s.version}, chunks of ~${mean}`);
          packets += ours.packets.length;
        }
      }
      assert.ok(packets > 20000, `${packets} packets compared`);
    });
  }

  it('[native] and [typescript] codecs write the same words for the corpus', (t) => {
    if (!NATIVE.binding) return t.skip(`addon not built (${NATIVE.reason ?? ''})`);
    const rand = prng(11);
    for (const s of streams) {
      for (const capacity of [1, 3, 256]) {
        const chunks = split(s.bytes, randomCuts(rand, s.bytes.length, 500));
        sameWords(createFrameCodec(NATIVE.binding, { capacity }), createFrameCodec(undefined, { capacity }), chunks, `v${s.version} capacity ${capacity}`);
      }
    }
  });

  it('generate() gives mqtt-packet bytes for every packet of the corpus, as parsed back', () => {
    for (const s of streams) {
      const parsed = runParser(mqttPacket.parser(), [s.bytes]).packets as mqttPacket.Packet[];
      parsed.forEach((p, i) => {
        const opts = i === 0 ? undefined : { protocolVersion: s.version };
        assert.deepEqual(generate(p, opts), mqttPacket.generate(p, opts));
      });
    }
  });

  it('PUBLISH fast path (TS writer) and native encodePublish: the same bytes as mqtt-packet', (t) => {
    const writer = new PublishWriter();
    const native = NATIVE.binding;
    const pool = Buffer.alloc(1 << 16);
    const rand = prng(3);
    for (let i = 0; i < 5000; i++) {
      const qos = Math.floor(rand() * 3);
      const packet: Record<string, unknown> = {
        cmd: 'publish',
        topic: rand() < 0.9 ? `te/device/d${Math.floor(rand() * 100)}///m/env` : 'é'.repeat(Math.floor(rand() * 50)),
        payload: rand() < 0.5 ? Buffer.alloc(Math.floor(rand() * 300), 0x41) : rand() < 0.5 ? '{"temperature":25}' : undefined,
        qos,
        dup: rand() < 0.3,
        retain: rand() < 0.3,
      };
      if (qos) packet['messageId'] = Math.floor(rand() * 65536);
      const opts = rand() < 0.3 ? { protocolVersion: 5 } : rand() < 0.5 ? { protocolVersion: 4 } : undefined;
      const theirs = mqttPacket.generate(packet as unknown as mqttPacket.Packet, opts);
      const ours = writer.encode(packet, opts);
      assert.ok(ours, 'fast path taken');
      assert.deepEqual(ours, theirs);
      if (native && Buffer.isBuffer(packet['payload'])) {
        const flags = (qos << 1) | (packet['dup'] ? 8 : 0) | (packet['retain'] ? 1 : 0);
        const n = native.encodePublish(packet['topic'] as string, packet['payload'], flags, (packet['messageId'] as number | undefined) ?? 0, opts?.protocolVersion === 5 ? 5 : 4, pool, 0);
        assert.deepEqual(pool.subarray(0, n), theirs);
      }
    }
    if (!native) t.diagnostic('native encodePublish not checked: addon not built');
  });

  it('generate() throws what mqtt-packet throws for invalid packets', () => {
    const invalid: Array<Record<string, unknown>> = [
      { cmd: 'publish', topic: 5, payload: 'x' },
      { cmd: 'publish', topic: 't', qos: 1 },
      { cmd: 'subscribe', messageId: 1, subscriptions: [] },
      { cmd: 'connect', protocolVersion: 9 },
      { cmd: 'nonsense' },
    ];
    for (const p of invalid) {
      let theirs: unknown;
      try {
        mqttPacket.generate(p as unknown as mqttPacket.Packet);
      } catch (err) {
        theirs = (err as Error).message;
      }
      assert.ok(theirs, JSON.stringify(p));
      assert.throws(() => generate(p), (err: Error) => err.message === theirs);
    }
  });

  it('writeToStream() writes the bytes mqtt-packet writes, and forwards cacheNumbers', async () => {
    const rand = prng(5);
    const packets = streams[4]?.packets.slice(0, 60) ?? [];
    const collect = async (write: (p: mqttPacket.Packet, s: PassThrough) => boolean): Promise<Buffer> => {
      const s = new PassThrough();
      const parts: Buffer[] = [];
      s.on('data', (b: Buffer) => parts.push(b));
      packets.forEach((p) => write(p, s));
      s.end();
      await new Promise((resolve) => s.on('end', resolve));
      return Buffer.concat(parts);
    };
    const opts = { protocolVersion: streams[4]?.version };
    const ours = await collect((p, s) => writeToStream(p, s, opts));
    const theirs = await collect((p, s) => mqttPacket.writeToStream(p, s, opts));
    assert.deepEqual(ours, theirs);
    assert.ok(rand() >= 0);
    const before = mqttPacket.writeToStream.cacheNumbers;
    writeToStream.cacheNumbers = false;
    assert.equal(mqttPacket.writeToStream.cacheNumbers, false);
    writeToStream.cacheNumbers = before;
  });
});

describe('malformed input: an error event, never an exception, and both codecs of ours agree', () => {
  function mutations(seed: number, count: number): Buffer[] {
    const rand = prng(seed);
    const out: Buffer[] = [];
    const frames = streams.flatMap((s) => s.packets.slice(1, 40).map((p) => mqttPacket.generate(p, { protocolVersion: s.version })));
    for (let i = 0; i < count; i++) {
      const base = Buffer.from(frames[Math.floor(rand() * frames.length)] as Buffer);
      const kind = rand();
      if (kind < 0.4) {
        for (let k = 1 + Math.floor(rand() * 3); k > 0; k--) base[Math.floor(rand() * base.length)] = Math.floor(rand() * 256);
        out.push(base);
      } else if (kind < 0.6) {
        out.push(base.subarray(0, Math.floor(rand() * base.length)));
      } else if (kind < 0.8) {
        const junk = Buffer.alloc(1 + Math.floor(rand() * 40));
        for (let k = 0; k < junk.length; k++) junk[k] = Math.floor(rand() * 256);
        out.push(Buffer.concat([base, junk]));
      } else {
        const junk = Buffer.alloc(Math.floor(rand() * 512));
        for (let k = 0; k < junk.length; k++) junk[k] = Math.floor(rand() * 256);
        if (junk.length) junk[0] = (Math.floor(rand() * 16) << 4) | (rand() < 0.3 ? 2 : 0);
        out.push(junk);
      }
    }
    return out;
  }
  const inputs = mutations(99, 4000);

  for (const impl of IMPLEMENTATIONS) {
    it(`[${impl.name}] never throws on mutated and random frames`, (t) => {
      if (impl.skip) return t.skip(impl.skip);
      const rand = prng(13);
      for (const version of [undefined, 4, 5]) {
        for (const input of inputs) {
          const chunks = split(input, randomCuts(rand, input.length, 16));
          const ours = runParser(new Parser(version ? { protocolVersion: version } : undefined, impl.binding), chunks);
          assert.equal(ours.threw, undefined, ours.threw);
        }
      }
    });
  }

  it('[native] and [typescript] codecs write the same words for malformed input', (t) => {
    if (!NATIVE.binding) return t.skip(`addon not built (${NATIVE.reason ?? ''})`);
    const rand = prng(17);
    for (const version of [0, 4, 5]) {
      for (const input of inputs) {
        const chunks = split(input, randomCuts(rand, input.length, 16));
        sameWords(createFrameCodec(NATIVE.binding, { protocolVersion: version, capacity: 4 }), createFrameCodec(undefined, { protocolVersion: version, capacity: 4 }), chunks, 'mutated');
      }
    }
  });

  it('where mqtt-packet stays inside the frame, it emits what we emit', (t) => {
    // mqtt-packet reads some fields of a truncated packet from the next frame's bytes (see the
    // "divergent" fixtures); count those apart and require agreement on everything else.
    let same = 0;
    let divergent = 0;
    for (const input of inputs) {
      let theirs;
      try {
        theirs = runParser(mqttPacket.parser({ protocolVersion: 5 }), [input]);
      } catch {
        divergent++;
        continue;
      }
      const ours = runParser(new Parser({ protocolVersion: 5 }, undefined), [input]);
      if (theirs.threw === undefined && JSON.stringify(ours) === JSON.stringify(theirs)) same++;
      else divergent++;
    }
    t.diagnostic(`same packets, errors and return values as mqtt-packet: ${same}/${inputs.length}`);
    assert.ok(same / inputs.length > 0.85, `agreement ${same}/${inputs.length}, divergent ${divergent}`);
  });
});
