/**
 * `npm run bench:flows`: the cost of a flow step per message (issue 13, item 3). Not a test: it prints figures.
 *
 *  1. the built-in converter (add-timestamp, as the az/aws mappers run it) called in-process;
 *  2. a trivial JavaScript step (returns its input with a new topic) in its node:vm realm, in-process,
 *     batches of 1000 per entry into the realm (what the worker does);
 *  3. the same step as the mapper runs it: through the flow engine, one worker thread per flow with
 *     resourceLimits, messages batched while the worker is busy;
 *  4. the same, one message per round trip (no batching): the cost of the thread hop alone;
 *  5. the builtin through the engine: a flow of builtins only runs in the mapper's thread;
 *  6. the c8y mapper's converter on measurements, with its built-in mapping and through its generated
 *     telemetry flows (`<config-dir>/mappers/c8y/flows/`), both on the native converter, run alternately.
 *
 * Environment: BENCH_MESSAGES (default 200000).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
import { C8yConverter } from '../../src/mapper/c8y/converter';
import { nativeForProcess } from '../../src/native/binding';
import { MeasurementConverter } from '../../src/native/measurement-converter';
import { systemClock } from '../../src/runtime/system-clock';

const N = Number(process.env['BENCH_MESSAGES'] ?? 200_000);
const TRIVIAL = `export function onMessage(message) { return { topic: 'out/' + message.topic, payload: message.payload }; }\n`;
const payload = new TextEncoder().encode('{"temperature":21.5,"humidity":40}');
const batch: FlowMessage[] = Array.from({ length: 1000 }, (_, i) => ({ topic: `te/device/main///m/env${i % 10}`, payload, time: Date.now() }));

function rate(count: number, ms: number): string {
  return `${Math.round((count / ms) * 1000).toLocaleString('en')} msg/s`;
}

function inProcess(name: string, step: { onMessages(b: readonly FlowMessage[]): { outputs: FlowMessage[] } }): void {
  for (let i = 0; i < 20; i++) step.onMessages(batch); // warm-up
  const started = performance.now();
  let out = 0;
  for (let done = 0; done < N; done += batch.length) out += step.onMessages(batch).outputs.length;
  console.log(`${name.padEnd(52)} ${rate(out, performance.now() - started)}`);
}

async function throughEngine(name: string, dir: string, oneByOne: boolean): Promise<void> {
  let out = 0;
  const engine = new FlowEngine({ flowsDir: dir, topicRoot: 'te', service: 'bench', mapperParams: {}, logger: createLogger({ name: 'bench', level: 'error' }), clock: systemClock, publish: () => void out++ });
  await engine.sync();
  const count = oneByOne ? Math.min(N, 20_000) : N;
  const msgs = Array.from({ length: 100 }, (_, i) => message(`te/device/main///m/env${i}`, payload));
  const started = performance.now();
  if (oneByOne) for (let i = 0; i < count; i++) await engine.dispatch(msgs[i % 100] as ReturnType<typeof message>);
  else {
    const work: Promise<void>[] = [];
    for (let i = 0; i < count; i++) work.push(engine.dispatch(msgs[i % 100] as ReturnType<typeof message>));
    await Promise.all(work);
  }
  console.log(`${name.padEnd(52)} ${rate(out, performance.now() - started)}`);
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
  console.log(`flows bench: ${N} messages of ${payload.length} bytes, node ${process.version}`);
  inProcess('builtin add-timestamp (converter of az/aws), in-process', new BuiltinStep('add-timestamp', { format: 'unix', reformat: true }, 1000, stores));
  inProcess('builtin set-topic, in-process', new BuiltinStep('set-topic', { topic: 'out' }, 1000, stores));
  inProcess('trivial JS step in its vm realm, in-process', new ScriptStep('trivial.js', compileStepModule(TRIVIAL, 'trivial.js'), 'trivial.js', {}, 1000, stores, { callTimeoutMs: 1000 }, () => {}));
  const dir = mkdtempSync(join(tmpdir(), 'flows-bench-'));
  try {
    writeFileSync(join(dir, 'trivial.js'), TRIVIAL);
    writeFileSync(join(dir, 'trivial.toml'), 'input.mqtt.topics = ["te/+/+/+/+/m/+"]\nsteps = [{ script = "trivial.js" }]\n');
    await throughEngine('trivial JS step via engine + worker, batched', dir, false);
    await throughEngine('trivial JS step via engine + worker, one by one', dir, true);
    writeFileSync(join(dir, 'trivial.toml'), 'input.mqtt.topics = ["te/+/+/+/+/m/+"]\nsteps = [{ builtin = "add-timestamp" }]\n');
    await throughEngine('builtin add-timestamp via engine (builtin-only: in-process)', dir, false);
    const c8yDir = join(dir, 'c8y');
    mkdirSync(c8yDir);
    c8yBench(c8yDir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
