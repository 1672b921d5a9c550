/**
 * Footprint of `tedge run all` (agent + c8y mapper + collectd mapper: thin-edge.io's "gateway" set) and of
 * mosquitto, on loopback: `npm run bench:footprint`.
 *
 * Measures RSS and PSS (/proc/<pid>/smaps_rollup) idle, under BENCH_RATE msg/s for BENCH_LOAD_SECONDS, and the
 * slope of the anonymous memory over a BENCH_SOAK_MESSAGES soak; sizes of the single executables and .debs in dist/packages; and,
 * for ARM single executables present there, idle RSS under qemu-user (relative only: it includes the emulator).
 * Runs the single executable dist/packages/tedge-x86_64 when it exists (BENCH_TARGET=node: dist/src/bin/tedge.js).
 *
 * The process gets the environment of packaging/runtime.env, as under systemd. BENCH_MODE=breakdown: where the
 * memory goes and each runtime flag side by side; BENCH_MODE=entities: 10,000 child devices (footprint-breakdown.ts).
 *
 * Knobs: BENCH_RATE (1000), BENCH_LOAD_SECONDS (60), BENCH_SOAK_MESSAGES (100000), BENCH_SOAK_RATE (2000),
 * BENCH_IDLE_SECONDS (120), BENCH_AFTER_BURST_SECONDS (300), BENCH_QEMU (1: also the ARM binaries, idle only),
 * BENCH_NODE_OPTIONS (instead of runtime.env's), BENCH_TEDGE_ARGS (more `run all` arguments, e.g. `--release-pages 0`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BusProbe } from '../helpers/bus-probe';
import { Mosquitto } from '../helpers/mosquitto';
import { REPO_ROOT } from '../helpers/paths';
import { runtimeEnvironment } from '../helpers/runtime-env';
import { benchDeviceEnv, breakdown, entities } from './footprint-breakdown';
import { type Memory, faults, memory } from './proc-memory';

const MiB = 1024 * 1024;
const env = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const RATE = env('BENCH_RATE', 1000);
const LOAD_SECONDS = env('BENCH_LOAD_SECONDS', 60);
const SOAK_MESSAGES = env('BENCH_SOAK_MESSAGES', 100_000);
const SOAK_RATE = env('BENCH_SOAK_RATE', 2000);
const IDLE_SECONDS = env('BENCH_IDLE_SECONDS', 120);
const PACKAGES = join(REPO_ROOT, 'dist', 'packages');

/** What the systemd units set (packaging/runtime.env), so that the figures are those of the installed service. */
const RUNTIME_ENV = runtimeEnvironment();
const NODE_OPTIONS = process.env['BENCH_NODE_OPTIONS'] ?? RUNTIME_ENV['NODE_OPTIONS'] ?? '';
/** Extra arguments of `tedge run all`, e.g. `--release-pages 0` to compare without the page release. */
const TEDGE_ARGS = (process.env['BENCH_TEDGE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
const AFTER_BURST_SECONDS = env('BENCH_AFTER_BURST_SECONDS', 300);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mib = (bytes: number): string => (bytes / MiB).toFixed(1);

/** Least-squares slope of y over x. */
function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

async function startTedge(command: string[], port: number, configDir: string, topicRoot = 'te', extraEnv: Record<string, string> = {}): Promise<ChildProcess> {
  const [exe, ...args] = command;
  return spawn(exe ?? 'false', [...args, 'run', 'all', '--mappers', 'c8y,collectd', ...TEDGE_ARGS], {
    // Each run its own ports (benchDeviceEnv): the x86_64 run is still up while the ARM ones start.
    env: { ...RUNTIME_ENV, ...extraEnv, PATH: process.env['PATH'] ?? '/usr/bin:/bin', NODE_OPTIONS, ...(await benchDeviceEnv(configDir, port)), TEDGE_MQTT_TOPIC_ROOT: topicRoot },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
}

async function waitUp(probe: BusProbe, timeoutMs: number, root = 'te'): Promise<void> {
  for (const service of ['tedge-agent', 'tedge-mapper-c8y', 'tedge-mapper-collectd']) {
    await probe.waitForText(`${root}/device/main/service/${service}/status/health`, (t) => t.includes('"up"'), timeoutMs);
  }
}

/** Publishes at `rate` msg/s (in 10 ms ticks) until `total` messages; 1 in 10 is a collectd sample. */
export async function publishAt(probe: BusProbe, rate: number, total: number, onTick: (sent: number) => void): Promise<number> {
  const perTick = Math.max(1, Math.round(rate / 100));
  const started = Date.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate) + perTick);
    const batch: Array<Promise<void>> = [];
    for (; sent < due; sent++) {
      batch.push(
        sent % 10 === 9
          ? probe.publish(`collectd/bench/cpu/percent-${sent % 4}`, `${Date.now() / 1000}:${sent % 100}`, { qos: 0 })
          : probe.publish('te/device/main///m/environment', `{"temperature":${20 + (sent % 10)},"humidity":${sent % 100},"seq":${sent}}`, { qos: 1 }),
      );
    }
    await Promise.all(batch);
    onTick(sent);
    await sleep(10);
  }
  return (Date.now() - started) / 1000;
}

interface Row {
  readonly what: string;
  readonly rss: string;
  readonly pss: string;
  readonly reference: string;
}

async function qemuIdle(arch: string, port: number): Promise<Memory | undefined> {
  const sea = join(PACKAGES, `tedge-${arch}`);
  if (!existsSync(sea)) return undefined;
  const configDir = mkdtempSync(join(tmpdir(), `tedge-bench-${arch}-`));
  // Health is retained: a fresh topic root, so that the previous run's `up` does not count.
  const probe = await BusProbe.connect(port, [`${arch}/+/+/+/+/status/health`]);
  // Run through binfmt_misc (qemu-user): the ARM libraries come from the cross-compilers' sysroots.
  const sysroot = arch === 'aarch64' ? '/usr/aarch64-linux-gnu' : '/usr/arm-linux-gnueabihf';
  const child = await startTedge([sea], port, configDir, arch, { QEMU_LD_PREFIX: sysroot });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`tedge-${arch} exited with ${String(code)}`))));
  exited.catch(() => {});
  try {
    await Promise.race([waitUp(probe, 120_000, arch), exited]);
    await sleep(IDLE_SECONDS * 1000);
    return memory(child.pid ?? 0);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await probe.close();
    rmSync(configDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const sea = join(PACKAGES, 'tedge-x86_64');
  const useSea = process.env['BENCH_TARGET'] !== 'node' && existsSync(sea);
  const command = useSea ? [sea] : [process.execPath, join(REPO_ROOT, 'dist', 'src', 'bin', 'tedge.js')];
  const target = useSea ? 'SEA dist/packages/tedge-x86_64' : 'node dist/src/bin/tedge.js';
  console.log(`tedge run all --mappers c8y,collectd (agent + c8y + collectd mappers) as ${target}, NODE_OPTIONS='${NODE_OPTIONS}'; loopback mosquitto`);

  const broker = await Mosquitto.start();
  const mosquittoPid = broker.pid ?? 0;
  const configDir = mkdtempSync(join(tmpdir(), 'tedge-bench-'));
  const probe = await BusProbe.connect(broker.port, ['te/+/+/+/+/status/health']);
  const counter = await BusProbe.connect(broker.port, []);
  let converted = 0;
  let collectdOut = 0;
  counter.bus.onMessage((m) => {
    if (m.topic === 'c8y/measurement/measurements/create') {
      if (m.payload.includes(0x63) && Buffer.from(m.payload).includes('"cpu"')) collectdOut++;
      else converted++;
    }
  });
  await counter.bus.subscribe(['c8y/measurement/measurements/create'], 0);

  const tedge = await startTedge(command, broker.port, configDir);
  const pid = tedge.pid ?? 0;
  // Interrupted: no daemon left behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      tedge.kill('SIGKILL');
      void broker.stop().finally(() => process.exit(130));
    });
  }
  const results: Record<string, unknown> = { target };
  try {
    const t0 = Date.now();
    await waitUp(probe, 30_000);
    results['startupMs'] = Date.now() - t0;
    await sleep(IDLE_SECONDS * 1000);
    const idle = memory(pid);
    const mosquittoIdle = memory(mosquittoPid);
    console.log(`idle after ${IDLE_SECONDS} s: RSS ${mib(idle.rss)} MiB, PSS ${mib(idle.pss)} MiB (anonymous ${mib(idle.anonymous)}, file-backed clean ${mib(idle.privateClean)})`);

    // Load: RATE msg/s for LOAD_SECONDS; page faults counted (what the released pages cost when they come back).
    const faultsBefore = faults(pid);
    let peak = idle;
    const sampler = setInterval(() => {
      const m = memory(pid);
      if (m.rss > peak.rss) peak = m;
    }, 500);
    const loadStart = converted;
    const elapsed = await publishAt(probe, RATE, RATE * LOAD_SECONDS, () => {});
    await sleep(1000);
    clearInterval(sampler);
    const underLoad = memory(pid);
    const mosquittoLoad = memory(mosquittoPid);
    const loadConverted = converted - loadStart;
    const faultsAfter = faults(pid);
    const loadFaults = { minflt: faultsAfter.minflt - faultsBefore.minflt, majflt: faultsAfter.majflt - faultsBefore.majflt, cpuSeconds: (faultsAfter.cpuTicks - faultsBefore.cpuTicks) / 100 };
    console.log(`load: page faults ${loadFaults.minflt} minor, ${loadFaults.majflt} major; CPU ${loadFaults.cpuSeconds.toFixed(1)} s`);
    // Idle after the burst: what stays resident once the load is over.
    await sleep(AFTER_BURST_SECONDS * 1000);
    const afterBurst = memory(pid);
    console.log(`idle ${AFTER_BURST_SECONDS} s after the burst: RSS ${mib(afterBurst.rss)} MiB (anonymous ${mib(afterBurst.anonymous)})`);
    console.log(
      `load: ${RATE * LOAD_SECONDS} messages in ${elapsed.toFixed(1)} s (${((RATE * LOAD_SECONDS) / elapsed).toFixed(0)} msg/s), ${loadConverted} te measurements converted, ${collectdOut} collectd batches; RSS peak ${mib(peak.rss)} MiB, end ${mib(underLoad.rss)} MiB`,
    );

    // Soak: anonymous memory (heap, malloc: what creeps) against messages processed, after a warm-up tenth.
    // Not RSS: the code pages released after the burst come back during the soak, a rise that is no creep.
    const samples: Array<[number, number]> = [];
    const soakStart = Date.now();
    let lastSample = 0;
    await publishAt(probe, SOAK_RATE, SOAK_MESSAGES, (sent) => {
      if (Date.now() - lastSample >= 250) {
        lastSample = Date.now();
        samples.push([sent, memory(pid).anonymous]);
      }
    });
    await sleep(2000);
    samples.push([SOAK_MESSAGES, memory(pid).anonymous]);
    const warm = samples.filter(([n]) => n >= SOAK_MESSAGES / 10);
    const perTenK = slope(warm) * 10_000;
    const first = warm[0]?.[1] ?? 0;
    const last = warm[warm.length - 1]?.[1] ?? 0;
    console.log(
      `soak: ${SOAK_MESSAGES} messages in ${((Date.now() - soakStart) / 1000).toFixed(1)} s; anonymous ${mib(first)} → ${mib(last)} MiB, RSS at the end ${mib(memory(pid).rss)} MiB; slope ${(perTenK / 1024).toFixed(1)} KiB per 10k messages (${warm.length} samples)`,
    );

    const sizes: Array<[string, number]> = existsSync(PACKAGES)
      ? readdirSync(PACKAGES)
          .filter((f) => f.startsWith('tedge'))
          .sort()
          .map((f) => [f, statSync(join(PACKAGES, f)).size])
      : [];


    const rows: Row[] = [
      { what: `tedge run all, idle ${IDLE_SECONDS} s after start (agent + c8y + collectd mappers)`, rss: mib(idle.rss), pss: mib(idle.pss), reference: '3 daemons × 8 MiB = 24 MiB' },
      { what: `tedge run all, ${RATE} msg/s for ${LOAD_SECONDS} s (peak)`, rss: mib(peak.rss), pss: mib(peak.pss), reference: '' },
      { what: `tedge run all, idle ${AFTER_BURST_SECONDS} s after that burst`, rss: mib(afterBurst.rss), pss: mib(afterBurst.pss), reference: '' },
      { what: 'mosquitto, idle', rss: mib(mosquittoIdle.rss), pss: mib(mosquittoIdle.pss), reference: '10 MiB' },
      { what: `mosquitto, after the load`, rss: mib(mosquittoLoad.rss), pss: mib(mosquittoLoad.pss), reference: '' },
      { what: 'gateway total, idle (tedge + mosquitto)', rss: mib(idle.rss + mosquittoIdle.rss), pss: mib(idle.pss + mosquittoIdle.pss), reference: '34 MiB' },
    ];
    console.log('\n| process | RSS MiB | PSS MiB | thin-edge.io (Rust) published |');
    console.log('|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.what} | ${r.rss} | ${r.pss} | ${r.reference} |`);
    console.log(`\nanonymous-memory slope over the ${SOAK_MESSAGES}-message soak: ${(perTenK / 1024).toFixed(1)} KiB per 10k messages (${mib(first)} → ${mib(last)} MiB)`);
    console.log(`startup (spawn → three health "up"): ${String(results['startupMs'])} ms`);
    if (sizes.length > 0) {
      console.log('\n| artifact | size (MB) |');
      console.log('|---|---|');
      for (const [f, s] of sizes) console.log(`| ${f} | ${(s / 1e6).toFixed(1)} |`);
    }

    // ARM single executables under qemu-user: the process measured is the emulator running them.
    const qemu: Array<[string, Memory]> = [];
    if (process.env['BENCH_QEMU'] !== '0') {
      for (const arch of ['aarch64', 'armhf']) {
        if (!existsSync(join(PACKAGES, `tedge-${arch}`))) continue;
        const m = await qemuIdle(arch, broker.port).catch((err: unknown) => {
          console.log(`tedge-${arch} under qemu: ${String(err)}`);
          return undefined;
        });
        if (m) qemu.push([arch, m]);
      }
      if (qemu.length > 0) {
        console.log('\n| under qemu-user (relative only: RSS includes the emulator and its translation cache) | RSS MiB | PSS MiB |');
        console.log('|---|---|---|');
        console.log(`| tedge-x86_64 run all, idle (native, for comparison) | ${mib(idle.rss)} | ${mib(idle.pss)} |`);
        for (const [arch, m] of qemu) console.log(`| tedge-${arch} run all, idle | ${mib(m.rss)} | ${mib(m.pss)} |`);
      }
    }
    Object.assign(results, { nodeOptions: NODE_OPTIONS, tedgeArgs: TEDGE_ARGS, idle, peak, afterBurst, loadFaults, underLoad, mosquittoIdle, mosquittoLoad, loadConverted, collectdOut, soak: { first, last, perTenKBytes: perTenK, samples: warm.length }, sizes, qemu });
    mkdirSync(join(REPO_ROOT, 'build', 'bench'), { recursive: true });
    writeFileSync(join(REPO_ROOT, 'build', 'bench', 'footprint.json'), `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    tedge.kill('SIGTERM');
    await new Promise((r) => (tedge.exitCode !== null ? r(undefined) : tedge.once('exit', r)));
    await probe.close();
    await counter.close();
    await broker.stop();
    rmSync(configDir, { recursive: true, force: true });
  }
}

// `node --test dist/test/` loads every file under test/ (NODE_TEST_CONTEXT set): the benchmark runs only when asked.
if (require.main === module && process.env['NODE_TEST_CONTEXT'] === undefined) {
  const mode = process.env['BENCH_MODE'];
  (mode === 'breakdown' ? breakdown() : mode === 'entities' ? entities() : main()).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
