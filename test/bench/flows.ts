/**
 * `npm run bench:flows`: the cost of a flow step per message (issue 13, item 3). Not a test: it prints figures.
 *
 * First, side by side, in alternated rounds so that the load of a shared machine weighs on all three alike:
 *  - the built-in converter (the az mapper's: skip-mosquitto-health, add-timestamp, limit-payload-size),
 *    called per message as MapperRuntime calls it;
 *  - a flow of one builtin step (add-timestamp) through the flow engine (builtin-only: the mapper's thread);
 *  - a trivial JavaScript step (returns its input with a new topic) through the flow engine, as the mapper
 *    runs it: one worker thread per flow with resourceLimits, its step in a node:vm realm, batched;
 * and the ratio of the JS step to the built-in converter, per round.
 * Then: the same steps in-process (no engine), one message per round trip to the worker (the cost of the
 * thread hop alone), and the c8y mapper's converter with its built-in mapping and through its generated
 * telemetry flows, run alternately.
 *
 * The engine is fed as the mapper feeds it (`void engine.dispatch(m)` per message): a run ends when the
 * last message's promise resolves, replies being routed in order.
 *
 * Environment: BENCH_MESSAGES (default 200000), BENCH_ROUNDS (default 3).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuiltinStep } from '../../src/flows/builtins';
import { FlowEngine } from '../../src/flows/flow-engine';
import type { FlowMessage } from '../../src/flows/flow-message';
import { KvStore } from '../../src/flows/kv-store';
import { ScriptStep } from '../../src/flows/script-step';
import { compileStepModule } from '../../src/flows/compile-script';
import { message } from '../../src/core/message';
import { createLogger } from '../../src/log/logger';
import { c8yFlowTomls } from '../../src/flows/c8y-flows';
import { FlowsConverter, installBuiltinFlow } from '../../src/flows/flows-converter';
import { AzConverter } from '../../src/mapper/az/converter';
import { C8yConverter } from '../../src/mapper/c8y/converter';
import { nativeForProcess } from '../../src/native/binding';
import { MeasurementConverter } from '../../src/native/measurement-converter';
import { systemClock } from '../../src/runtime/system-clock';

const N = Number(process.env['BENCH_MESSAGES'] ?? 200_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const TRIVIAL = `export function onMessage(message) { return { topic: 'out/' + message.topic, payload: message.payload }; }\n`;
const payload = new TextEncoder().encode('{"temperature":21.5,"humidity":40}');
const batch: FlowMessage[] = Array.from({ length: 1000 }, (_, i) => ({ topic: `te/device/main///m/env${i % 10}`, payload, time: Date.now() }));

function perSecond(count: number, ms: number): number {
  return (count / ms) * 1000;
}

function rate(count: number, ms: number): string {
  return `${Math.round(perSecond(count, ms)).toLocaleString('en')} msg/s`;
}

function inProcess(name: string, step: { onMessages(b: readonly FlowMessage[]): { outputs: FlowMessage[] } }): void {
  for (let i = 0; i < 20; i++) step.onMessages(batch); // warm-up
  const started = performance.now();
  let out = 0;
  for (let done = 0; done < N; done += batch.length) out += step.onMessages(batch).outputs.length;
  console.log(`${name.padEnd(52)} ${rate(out, performance.now() - started)}`);
}

const inputs = Array.from({ length: 100 }, (_, i) => message(`te/device/main///m/env${i}`, payload));

/** Outputs per second of wall time, and CPU time per output of the whole process (every thread: the mapper's and the workers'). */
interface Measure {
  readonly perSecond: number;
  readonly cpuUs: number;
}

function measureFrom(out: number, started: number, cpu: NodeJS.CpuUsage): Measure {
  const used = process.cpuUsage(cpu);
  return { perSecond: perSecond(out, performance.now() - started), cpuUs: (used.user + used.system) / out };
}

/** An engine over a flows directory of one flow; `run` sends `count` messages and measures its outputs. */
async function engineOver(dir: string, toml: string): Promise<{ run(count: number): Promise<Measure>; stop(): Promise<void> }> {
  writeFileSync(join(dir, 'bench.toml'), toml);
  let out = 0;
  const engine = new FlowEngine({ flowsDir: dir, topicRoot: 'te', service: 'bench', mapperParams: {}, logger: createLogger({ name: 'bench', level: 'error' }), clock: systemClock, publish: () => void out++ });
  await engine.sync();
  return {
    async run(count) {
      out = 0;
      const cpu = process.cpuUsage();
      const started = performance.now();
      let last: Promise<void> = Promise.resolve();
      for (let i = 0; i < count; i++) last = engine.dispatch(inputs[i % 100] as ReturnType<typeof message>);
      await last;
      return measureFrom(out, started, cpu);
    },
    stop: () => engine.stop(),
  };
}

/** The az mapper's converter, per message with its time, as MapperRuntime calls it. */
function builtinConverter(count: number): Measure {
  const az = new AzConverter({ topics: ['te/+/+/+/+/m/+'], prefix: 'az', timestampFormat: 'unix', maxPayloadSize: 262144, maxPayloadSizeKey: 'az.mapper.mqtt.max_payload_size' });
  let out = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < count; i++) out += az.convert(inputs[i % 100] as ReturnType<typeof message>, new Date()).length;
  return measureFrom(out, started, cpu);
}

const cell = (m: Measure): string => `${Math.round(m.perSecond / 1000)} k/s ${m.cpuUs.toFixed(1)} µs`;
const range = (vs: readonly number[], show: (v: number) => string): string => `${show(Math.min(...vs))}–${show(Math.max(...vs))}`;

async function sideBySide(dir: string): Promise<void> {
  const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`side by side, ${ROUNDS} rounds of ${N} messages each (${cpus().length} cores, load average ${load()}):`);
  const jsDir = join(dir, 'js');
  const builtinDir = join(dir, 'builtin');
  mkdirSync(jsDir);
  mkdirSync(builtinDir);
  writeFileSync(join(jsDir, 'trivial.js'), TRIVIAL);
  const js = await engineOver(jsDir, 'input.mqtt.topics = ["te/+/+/+/+/m/+"]\nsteps = [{ script = "trivial.js" }]\n');
  const builtin = await engineOver(builtinDir, 'input.mqtt.topics = ["te/+/+/+/+/m/+"]\nsteps = [{ builtin = "add-timestamp" }]\n');
  builtinConverter(20_000); // warm-up
  await builtin.run(20_000);
  await js.run(20_000);
  const rows: { converter: Measure; flow: Measure; js: Measure }[] = [];
  console.log('messages per second (wall time), and CPU time per message of all threads; JS / built-in: ratio of the rates');
  console.log(`${'round'.padEnd(7)}${'built-in converter (az)'.padEnd(26)}${'builtin-only flow'.padEnd(22)}${'trivial JS step, engine'.padEnd(26)}JS / built-in`);
  for (let round = 1; round <= ROUNDS; round++) {
    const row = { converter: builtinConverter(N), flow: await builtin.run(N), js: await js.run(N) };
    rows.push(row);
    console.log(`${String(round).padEnd(7)}${cell(row.converter).padEnd(26)}${cell(row.flow).padEnd(22)}${cell(row.js).padEnd(26)}${(row.js.perSecond / row.converter.perSecond).toFixed(2)}`);
  }
  const rates = (pick: (r: (typeof rows)[number]) => Measure): string => `${range(rows.map((r) => pick(r).perSecond), (v) => String(Math.round(v / 1000)))} k/s`;
  console.log(
    `${'range'.padEnd(7)}${rates((r) => r.converter).padEnd(26)}${rates((r) => r.flow).padEnd(22)}${rates((r) => r.js).padEnd(26)}${range(rows.map((r) => r.js.perSecond / r.converter.perSecond), (v) => v.toFixed(2))}`,
  );
  console.log(`(load average after: ${load()})\n`);
  await js.stop();
  await builtin.stop();
}

async function oneByOne(dir: string): Promise<void> {
  let out = 0;
  const engine = new FlowEngine({ flowsDir: dir, topicRoot: 'te', service: 'bench', mapperParams: {}, logger: createLogger({ name: 'bench', level: 'error' }), clock: systemClock, publish: () => void out++ });
  await engine.sync();
  const count = Math.min(N, 20_000);
  const started = performance.now();
  for (let i = 0; i < count; i++) await engine.dispatch(inputs[i % 100] as ReturnType<typeof message>);
  console.log(`${'trivial JS step via engine + worker, one by one'.padEnd(52)} ${rate(out, performance.now() - started)}`);
  await engine.stop();
}

/** The c8y mapper's convert() on measurements of the main device and of a child, as MapperRuntime calls it. */
function c8yConverters(dir: string): [string, C8yConverter][] {
  const topics = ['te/+/+/+/+/m/+', 'te/+/+/+/+/e/+', 'te/+/+/+/+/a/+', 'te/+/+/+/+/status/health'];
  for (const [name, toml] of Object.entries(c8yFlowTomls({ topics, topicRoot: 'te', prefix: 'c8y', maxPayloadSize: 16184, serviceType: 'service' }))) installBuiltinFlow(dir, name, toml);
  const make = (flows: boolean): C8yConverter => {
    const measurementConverter = new MeasurementConverter(nativeForProcess().binding);
    const options = { deviceId: 'bench', prefix: 'c8y', topicRoot: 'te', topics, maxPayloadSize: 16184, earlyMessageLimit: 100, createWithDeviceMarker: false, serviceType: 'service', useOperationId: true, enabled: () => true, fileTransferBase: 'http://127.0.0.1:8000/te/v1/files', c8yProxyBase: 'http://127.0.0.1:8001/c8y', c8yHost: undefined, measurementConverter };
    const converter = new C8yConverter(flows ? { ...options, telemetryFlows: new FlowsConverter(dir, 'te/errors', { measurements: measurementConverter }) } : options);
    converter.convert(message('te/device/child//', '{"@type":"child-device"}'), new Date());
    return converter;
  };
  return [
    [`c8y converter, built-in mapping (native ${String(nativeForProcess().binding !== undefined)})`, make(false)],
    ['c8y converter, through its telemetry flows', make(true)],
  ];
}

function c8yBench(dir: string): void {
  const msgs = Array.from({ length: 100 }, (_, i) => message(i % 2 === 0 ? `te/device/main///m/env${i % 10}` : `te/device/child///m/env${i % 10}`, payload));
  const now = new Date();
  const converters = c8yConverters(dir);
  for (let round = 0; round < 2; round++) {
    for (const [name, converter] of converters) {
      for (let i = 0; i < 20_000; i++) converter.convert(msgs[i % 100] as ReturnType<typeof message>, now); // warm-up
      const started = performance.now();
      let out = 0;
      for (let i = 0; i < N; i++) out += converter.convert(msgs[i % 100] as ReturnType<typeof message>, now).length;
      console.log(`${`${name} (round ${round + 1})`.padEnd(52)} ${rate(out, performance.now() - started)}`);
    }
  }
}

async function main(): Promise<void> {
  const stores = { mapper: new KvStore(), flow: new KvStore(), script: new KvStore() };
  console.log(`flows bench: ${N} messages of ${payload.length} bytes, node ${process.version}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'flows-bench-'));
  try {
    await sideBySide(dir);
    inProcess('builtin add-timestamp (converter of az/aws), in-process', new BuiltinStep('add-timestamp', { format: 'unix', reformat: true }, 1000, stores));
    inProcess('builtin set-topic, in-process', new BuiltinStep('set-topic', { topic: 'out' }, 1000, stores));
    inProcess('trivial JS step in its vm realm, in-process', new ScriptStep('trivial.js', compileStepModule(TRIVIAL, 'trivial.js'), 'trivial.js', {}, 1000, stores, { callTimeoutMs: 1000 }, () => {}));
    await oneByOne(join(dir, 'js'));
    const c8yDir = join(dir, 'c8y');
    mkdirSync(c8yDir);
    c8yBench(c8yDir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
