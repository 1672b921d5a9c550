/**
 * `npm run bench`: the hot path side by side (issue 3, item 5). Not a test: it prints figures.
 *
 *  1. parse a 1 MiB stream of PUBLISH QoS 0/1 (20-200 byte payloads, ~10 % PUBACKs) in 64 KiB chunks,
 *     the consumer reading topic and payload of every packet: mqtt-packet vs the compatible parser
 *     (native, TS reference) vs the batch API (native, TS reference);
 *  2. serialize PUBLISH: mqtt-packet generate() vs ours (native, TS);
 *  3. Thin Edge JSON → Cumulocity JSON for typical payloads: native vs TS (bytes → bytes).
 *
 * Each contender runs in interleaved rounds; the median round is reported.
 * Environment: BENCH_ROUNDS (default 7), BENCH_ROUND_MS (default 300).
 */
import { cpus, loadavg } from 'node:os';
import * as mqttPacket from 'mqtt-packet';
import { loadNative } from '../../src/native/binding';
import { FrameBatch } from '../../src/native/frame-batch';
import { createFrameCodec } from '../../src/native/frame-codec';
import { type C8yMeasurementContext, MeasurementConverter, convertWithTypeScript } from '../../src/native/measurement-converter';
import { Parser, PublishWriter } from '../../src/native/mqtt-packet';
import { prng } from '../unit/native/support';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7);
const ROUND_MS = Number(process.env['BENCH_ROUND_MS'] ?? 300);

interface Contender {
  readonly name: string;
  /** Runs one unit of work; returns the number of items (packets, payloads) it handled. */
  readonly run: () => number;
}

/** Interleaved rounds; items/s of the median round for each contender. */
function measure(contenders: readonly Contender[]): Map<string, number> {
  for (const c of contenders) for (let i = 0; i < 3; i++) c.run(); // warm-up
  const rates = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of contenders) {
      let items = 0;
      const start = process.hrtime.bigint();
      let elapsed = 0;
      do {
        items += c.run();
        elapsed = Number(process.hrtime.bigint() - start) / 1e9;
      } while (elapsed * 1000 < ROUND_MS);
      rates.get(c.name)?.push(items / elapsed);
    }
  }
  const out = new Map<string, number>();
  for (const [name, list] of rates) {
    list.sort((a, b) => a - b);
    out.set(name, list[Math.floor(list.length / 2)] as number);
  }
  return out;
}

function report(title: string, unit: string, rates: Map<string, number>, baseline: string): void {
  const base = rates.get(baseline) ?? 1;
  console.log(`\n${title}`);
  console.log(`  ${'contender'.padEnd(44)} ${`${unit}/s`.padStart(14)}  vs ${baseline}`);
  for (const [name, rate] of rates) {
    console.log(`  ${name.padEnd(44)} ${formatRate(rate).padStart(14)}  ${(rate / base).toFixed(2)}x`);
  }
}

function formatRate(r: number): string {
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)} M` : `${(r / 1e3).toFixed(1)} k`;
}

/** ~1 MiB of PUBLISH QoS 0/1 with 20-200 byte payloads and ~10 % PUBACKs. */
function publishStream(distinctTopics: number | 'all'): { chunks: Buffer[]; packets: number } {
  const rand = prng(42);
  const frames: Buffer[] = [];
  let size = 0;
  let id = 1;
  let n = 0;
  while (size < 1 << 20) {
    let frame: Buffer;
    if (rand() < 0.1) {
      frame = mqttPacket.generate({ cmd: 'puback', messageId: id++ % 65535 || 1 });
    } else {
      const qos = rand() < 0.5 ? 0 : 1;
      const k = distinctTopics === 'all' ? n : Math.floor(rand() * distinctTopics);
      const payload = Buffer.alloc(20 + Math.floor(rand() * 181), 0x61);
      frame = mqttPacket.generate({ cmd: 'publish', topic: `te/device/child${k}///m/environment`, payload, qos, messageId: qos ? id++ % 65535 || 1 : undefined, retain: false, dup: false } as mqttPacket.IPublishPacket);
    }
    frames.push(frame);
    size += frame.length;
    n++;
  }
  const stream = Buffer.concat(frames);
  const chunks: Buffer[] = [];
  for (let o = 0; o < stream.length; o += 64 * 1024) chunks.push(stream.subarray(o, o + 64 * 1024));
  return { chunks, packets: n };
}

let sink = 0; // keeps the consumers' reads observable

function viaParser(make: () => NodeJS.EventEmitter & { parse(b: Buffer): number }, chunks: readonly Buffer[]): () => number {
  return () => {
    const p = make();
    let n = 0;
    p.on('packet', (packet: { topic: string | null; payload: Buffer | null }) => {
      n++;
      if (packet.topic !== null && packet.payload !== null) sink += packet.topic.length + packet.payload.length;
    });
    for (const c of chunks) p.parse(c);
    return n;
  };
}

function viaBatch(make: () => FrameBatch, chunks: readonly Buffer[]): () => number {
  return () => {
    const batch = make();
    let n = 0;
    for (const c of chunks) {
      for (let k = batch.parse(c); k > 0; k = batch.resume()) {
        for (let i = 0; i < k; i++) {
          if (batch.type(i) === 3) sink += batch.topic(i).length + batch.payload(i).length;
        }
        n += k;
      }
    }
    return n;
  };
}

function main(): void {
  if (process.env['NODE_TEST_CONTEXT']) {
    console.log('hot-path benchmark: run it with `npm run bench`, not under node --test');
    return;
  }
  const native = loadNative();
  const binding = native.binding;
  console.log('tedge-ts hot-path benchmark');
  console.log(`  node ${process.version} ${process.arch}, ${cpus()[0]?.model ?? '?'} x${cpus().length}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`  addon: ${binding ? native.path : `not loaded (${native.reason ?? ''}) – native contenders skipped`}`);
  console.log(`  ${ROUNDS} interleaved rounds of ${ROUND_MS} ms per contender, median round`);

  for (const topics of [50, 'all'] as const) {
    const { chunks, packets } = publishStream(topics);
    const contenders: Contender[] = [
      { name: 'mqtt-packet parser', run: viaParser(() => mqttPacket.parser(), chunks) },
      { name: 'compatible parser, TS reference', run: viaParser(() => new Parser(undefined, undefined), chunks) },
      { name: 'batch API, TS reference', run: viaBatch(() => new FrameBatch(createFrameCodec(undefined, {})), chunks) },
    ];
    if (binding) {
      contenders.splice(1, 0, { name: 'compatible parser, native', run: viaParser(() => new Parser(undefined, binding), chunks) });
      contenders.push({ name: 'batch API, native', run: viaBatch(() => new FrameBatch(createFrameCodec(binding, { internTopics: true })), chunks) });
    }
    report(`1. parse 1 MiB (${packets} packets, ${topics === 'all' ? 'every topic distinct' : `${topics} distinct topics`}) in 64 KiB chunks; consumer reads topic + payload`, 'packets', measure(contenders), 'mqtt-packet parser');
  }

  {
    const rand = prng(7);
    const packets = Array.from({ length: 1000 }, (_, i) => {
      const qos = i % 2;
      return { cmd: 'publish', topic: `te/device/child${i % 50}///m/environment`, payload: Buffer.alloc(20 + Math.floor(rand() * 181), 0x62), qos, messageId: qos ? 1 + i : undefined, retain: false, dup: false };
    });
    const gen = (f: (p: (typeof packets)[number]) => Buffer | undefined) => () => {
      for (const p of packets) sink += (f(p) as Buffer).length;
      return packets.length;
    };
    const tsWriter = new PublishWriter();
    const contenders: Contender[] = [
      { name: 'mqtt-packet generate()', run: gen((p) => mqttPacket.generate(p as mqttPacket.IPublishPacket)) },
      { name: 'our generate() (TS single-buffer writer)', run: gen((p) => tsWriter.encode(p, undefined)) },
    ];
    if (binding) {
      // The addon's encodePublish into a pooled Buffer, as a writer would use it.
      let pool = Buffer.allocUnsafe(64 * 1024);
      let used = 0;
      const encode = (p: (typeof packets)[number]): Buffer => {
        if (used > pool.length - 1024) {
          pool = Buffer.allocUnsafe(64 * 1024);
          used = 0;
        }
        const flags = (p.qos << 1) | (p.dup ? 8 : 0) | (p.retain ? 1 : 0);
        const n = binding.encodePublish(p.topic, p.payload, flags, p.messageId ?? 0, 4, pool, used);
        const out = pool.subarray(used, used + n);
        used += n;
        return out;
      };
      contenders.push({ name: 'native encodePublish() per packet', run: gen(encode) });
    }
    report('2. serialize PUBLISH (QoS 0/1, 20-200 byte payloads)', 'packets', measure(contenders), 'mqtt-packet generate()');
  }

  {
    const now = new Date(1700000000000);
    const units = new Map([['temperature', '°C'], ['Climate.Humidity', '%RH']]);
    const payloads: Array<[string, C8yMeasurementContext]> = [
      ['{"temperature": 23.5}', { topicType: 'env', now }],
      ['{"temperature": 23.5, "time": "2024-05-01T12:00:00.123Z"}', { topicType: 'env', units, now }],
      ['{"temperature": 21.4, "pressure": 1013.2, "humidity": 45, "voltage": 3.29, "current": 0.12}', { topicType: '', now }],
      ['{"time": 1714564800.5, "Climate": {"Humidity": 55, "Temperature": 21.25}, "Wind": {"speed": 3.4, "gust": 7.8, "direction": 270}}', { topicType: 'weather', units, now }],
      ['{"a": 1, "b": 2.5, "c": -3, "d": 4e-3, "e": 5, "f": 6.25, "g": 7, "h": 8.5, "i": 9, "j": 10.125}', { topicType: 'ten', now }],
      ['{"time": "2024-05-01T12:00:00+02:00", "Motor": {"rpm": 1480, "temperature": 71.5, "vibration": 0.031}, "load": 0.87, "properties": {"firmware": "1.2.3"}}', { topicType: 'motor', externalSource: { externalId: 'gw:motor1', type: 'c8y_Serial' }, now }],
    ];
    const items = payloads.map(([text, ctx]) => ({ payload: Buffer.from(text), ctx }));
    const contenders: Contender[] = [
      {
        name: 'TS: bytes → JSON.parse → transform → JSON.stringify → bytes',
        run: () => {
          for (const { payload, ctx } of items) sink += convertWithTypeScript(payload, ctx).length;
          return items.length;
        },
      },
    ];
    if (binding) {
      const converter = new MeasurementConverter(binding);
      contenders.push({
        name: 'native one pass (MeasurementConverter)',
        run: () => {
          for (const { payload, ctx } of items) sink += converter.convert(payload, ctx).length;
          return items.length;
        },
      });
      contenders.push({
        name: 'native, batch form (one call per 6 payloads)',
        run: () => {
          for (const r of converter.convertBatch(items)) sink += r instanceof Buffer ? r.length : 0;
          return items.length;
        },
      });
    }
    report('3. Thin Edge JSON → Cumulocity JSON (6 typical payloads: 1-10 values, groups, time, units, properties)', 'payloads', measure(contenders), 'TS: bytes → JSON.parse → transform → JSON.stringify → bytes');
  }
  if (sink === 42) console.log('');
}

main();
