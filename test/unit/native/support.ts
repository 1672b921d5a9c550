/** Shared by the native tests: which implementations to run, fixtures, a seeded PRNG. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type NativeBinding, loadNative } from '../../../src/native/binding';
import { REPO_ROOT } from '../../helpers/paths';

export const NATIVE = loadNative();

export interface Implementation {
  /** Shown in test names, so the output says which path ran. */
  readonly name: 'native' | 'typescript';
  readonly binding: NativeBinding | undefined;
  /** Why the native cases are skipped, when they are. */
  readonly skip: string | false;
}

export const IMPLEMENTATIONS: readonly Implementation[] = [
  { name: 'native', binding: NATIVE.binding, skip: NATIVE.binding ? false : `addon not built (${NATIVE.reason ?? ''})` },
  { name: 'typescript', binding: undefined, skip: false },
];

export const MQTT_FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'mqtt');
export const MEASUREMENT_CASES = join(REPO_ROOT, 'test', 'fixtures', 'measurement-c8y', 'cases.json');

export interface MqttFixture {
  readonly file: string;
  readonly name: string;
  readonly protocolVersion?: number;
  readonly maxPacketSize?: number;
  readonly frame: readonly string[];
  readonly packets: readonly unknown[];
  readonly error?: string;
  readonly pending?: number;
  readonly generate?: boolean;
  readonly mqttPacket?: 'divergent' | 'n/a';
}

export function loadMqttFixtures(): MqttFixture[] {
  return readdirSync(MQTT_FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((file) => {
      const doc = JSON.parse(readFileSync(join(MQTT_FIXTURES, file), 'utf8')) as { cases: MqttFixture[] };
      return doc.cases.map((c) => ({ ...c, file }));
    });
}

/** Annotated hex ("30 0a  # comment", "61*124") → bytes. */
export function frameBytes(lines: readonly string[]): Buffer {
  const out: number[] = [];
  for (const line of lines) {
    for (const token of (line.split('#')[0] ?? '').trim().split(/\s+/).filter(Boolean)) {
      const [hex, count] = token.split('*');
      for (let i = 0; i < (count ? Number(count) : 1); i++) out.push(parseInt(hex ?? '', 16));
    }
  }
  return Buffer.from(out);
}

/** Packet objects → plain JSON with Buffers as {"$hex"} (for comparing with fixtures). */
export function toFixtureJson(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return { $hex: value.toString('hex') };
  if (Array.isArray(value)) return value.map(toFixtureJson);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toFixtureJson(v);
    return out;
  }
  return value;
}

/** Fixture Buffer encodings ({"$utf8"}, {"$hex"}, {"$fill"}) → {"$hex"}. */
export function normaliseFixtureJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normaliseFixtureJson);
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o['$utf8'] === 'string') return { $hex: Buffer.from(o['$utf8']).toString('hex') };
    if (Array.isArray(o['$fill'])) {
      const [byte, count] = o['$fill'] as [number, number];
      return { $hex: Buffer.alloc(count, byte).toString('hex') };
    }
    if (typeof o['$hex'] === 'string') return o;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = normaliseFixtureJson(v);
    return out;
  }
  return value;
}

/** Fixture JSON → packet values with real Buffers (for generate()). */
export function fixturePacket(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fixturePacket);
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o['$utf8'] === 'string') return Buffer.from(o['$utf8']);
    if (typeof o['$hex'] === 'string') return Buffer.from(o['$hex'], 'hex');
    if (Array.isArray(o['$fill'])) {
      const [byte, count] = o['$fill'] as [number, number];
      return Buffer.alloc(count, byte);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = fixturePacket(v);
    return out;
  }
  return value;
}

/** mulberry32: a small seeded PRNG, so random corpora are the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random cut points (ascending) for splitting `length` bytes into chunks. */
export function randomCuts(rand: () => number, length: number, meanChunk: number): number[] {
  const cuts: number[] = [];
  for (let at = 0; ; ) {
    at += 1 + Math.floor(rand() * meanChunk * 2);
    if (at >= length) return cuts;
    cuts.push(at);
  }
}

export function split(buf: Buffer, cuts: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (const cut of cuts) {
    out.push(buf.subarray(start, cut));
    start = cut;
  }
  out.push(buf.subarray(start));
  return out;
}

export interface ParseOutcome {
  packets: unknown[];
  errors: string[];
  returns: number[];
  threw?: string;
}

/** Runs chunks through anything with mqtt-packet's parser interface. */
export function runParser(p: NodeJS.EventEmitter & { parse(b: Buffer): number }, chunks: readonly Buffer[]): ParseOutcome {
  const out: ParseOutcome = { packets: [], errors: [], returns: [] };
  p.on('packet', (x: unknown) => out.packets.push(x));
  p.on('error', (e: Error) => out.errors.push(e.message));
  try {
    for (const c of chunks) out.returns.push(p.parse(c));
  } catch (err) {
    out.threw = err instanceof Error ? err.stack ?? err.message : String(err);
  }
  return out;
}
