/**
 * `node dist/test/bench/flows-footprint.js [idle seconds, 120]`: idle memory of `tedge run all` (agent + c8y
 * mapper) running the c8y mapper's flows (the default) and in the fallback (a file named `mappers/c8y`, so the
 * flows directory cannot be made and the converter maps telemetry), each on its own mosquitto, with the
 * environment of packaging/runtime.env. Runs dist/src/bin/tedge.js under this node, or BENCH_EXECUTABLE (a
 * single executable). Not a test: it prints figures.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mosquitto } from '../helpers/mosquitto';
import { REPO_ROOT } from '../helpers/paths';
import { runtimeEnvironment } from '../helpers/runtime-env';
import { benchDeviceEnv } from './footprint-breakdown';
import { memory } from './proc-memory';

const IDLE_SECONDS = Number(process.argv[2] ?? 120);
const MiB = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

async function idleMemory(mode: 'flows' | 'fallback'): Promise<string> {
  const broker = await Mosquitto.start();
  const dir = mkdtempSync(join(tmpdir(), 'flows-footprint-'));
  try {
    mkdirSync(join(dir, 'mappers'));
    if (mode === 'fallback') writeFileSync(join(dir, 'mappers', 'c8y'), '');
    const executable = process.env['BENCH_EXECUTABLE'];
    const [command, args] = executable === undefined ? [process.execPath, [join(REPO_ROOT, 'dist/src/bin/tedge.js'), 'run', 'all']] : [executable, ['run', 'all']];
    const env = { ...runtimeEnvironment(), PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...(await benchDeviceEnv(dir, broker.port)) };
    const proc = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const m = memory(proc.pid ?? 0);
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
    let flows = 0;
    try {
      flows = readdirSync(join(dir, 'mappers', 'c8y', 'flows')).length;
    } catch {
      // The fallback: no directory.
    }
    const warned = output.includes('cannot install the built-in flows');
    return `${mode.padEnd(9)} RSS ${MiB(m.rss)} MiB, PSS ${MiB(m.pss)} MiB, anonymous ${MiB(m.anonymous)} MiB (${flows} files in mappers/c8y/flows, fallback warning: ${String(warned)})`;
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`tedge run all, idle ${IDLE_SECONDS} s after start (${process.env['BENCH_EXECUTABLE'] ?? `node ${process.version}, dist JS`}):`);
  for (const mode of ['flows', 'fallback'] as const) console.log(await idleMemory(mode));
}

void main();
