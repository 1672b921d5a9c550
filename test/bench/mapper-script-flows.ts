/**
 * `node dist/test/bench/mapper-script-flows.js`: a built-in mapper's flows under MapperRuntime, as tedge-mapper
 * az runs them (in-memory broker, every input acknowledged after its outputs): a flow of one builtin step
 * (the synchronous path), and the same flow with a trivial JavaScript step (its worker, outputs later, in
 * input order). Not a test: it prints figures. Environment: BENCH_MESSAGES (default 50000), BENCH_ROUNDS (3).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBroker } from '../../src/bus/memory-bus';
import { message } from '../../src/core/message';
import { FlowsConverter } from '../../src/flows/flows-converter';
import { silentLogger } from '../../src/log/logger';
import { MapperRuntime } from '../../src/mapper/runtime';
import { HealthReporter } from '../../src/runtime/health';
import { systemClock, systemTimers } from '../../src/runtime/system-clock';

const N = Number(process.env['BENCH_MESSAGES'] ?? 50_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const BUILTIN = 'input.mqtt.topics = ["in/+"]\nsteps = [{ builtin = "set-topic", config = { topic = "out/x" } }]\n';
const WITH_SCRIPT = 'input.mqtt.topics = ["in/+"]\nsteps = [{ builtin = "set-topic", config = { topic = "out/x" } }, { script = "step.js" }]\n';
const STEP = 'export function onMessage(m) { return m; }\n';

async function run(flow: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-mapper-flows-'));
  writeFileSync(join(dir, 'f.toml'), flow);
  writeFileSync(join(dir, 'step.js'), STEP);
  const broker = new MemoryBroker();
  const bus = broker.connect();
  let acked = 0;
  bus.acked.push = () => ++acked;
  const health = new HealthReporter(bus, systemClock, { root: 'te', service: 'device/main/service/tedge-mapper-az', device: 'device/main//', timestampFormat: 'unix' }, 1);
  const runtime = new MapperRuntime({ name: 'tedge-mapper-az', bus, clock: systemClock, timers: systemTimers, converter: new FlowsConverter(dir, 'te/errors'), health, logger: silentLogger(), topicRoot: 'te' });
  await runtime.start();
  const device = broker.connect();
  const inputs = Array.from({ length: 100 }, (_, i) => message(`in/${i}`, '{"temperature":21.5,"humidity":40}', { qos: 1 }));
  const started = performance.now();
  for (let i = 0; i < N; i++) {
    void device.publish(inputs[i % 100] as (typeof inputs)[number]);
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r)); // let the worker's replies in, as a socket would
  }
  while (acked < N) await new Promise((r) => setImmediate(r));
  const ms = performance.now() - started;
  await runtime.stop(0);
  broker.published.length = 0;
  rmSync(dir, { recursive: true, force: true });
  return (N / ms) * 1000;
}

async function main(): Promise<void> {
  console.log(`MapperRuntime + FlowsConverter, ${N} messages per run, load average ${loadavg()[0]?.toFixed(1)}`);
  for (let r = 0; r < ROUNDS; r++) {
    const builtin = await run(BUILTIN);
    const script = await run(WITH_SCRIPT);
    console.log(`round ${r + 1}: builtin step only ${Math.round(builtin).toLocaleString('en')} msg/s; with a JS step ${Math.round(script).toLocaleString('en')} msg/s`);
  }
}

void main();
