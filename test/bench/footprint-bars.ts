/**
 * The bar-style check of the footprint (issue 14): fails when the idle RSS of `tedge run all` or the size of a
 * .deb has regressed by more than the tolerance over the figures recorded in packaging/footprint-bars.json.
 * Run after `npm run package` (CI: scripts/check-footprint-bars.sh). Only the packages present are checked;
 * the RSS only on x86_64 (ARM under qemu-user measures the emulator).
 *
 * Knobs: BARS_IDLE_SECONDS (40: the page release happens 10 s after start-up), BARS_SKIP_RSS=1 (sizes only).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/paths';
import { runtimeEnvironment } from '../helpers/runtime-env';
import { measureVariant } from './footprint-breakdown';

interface Bars {
  readonly tolerance: number;
  /** Idle RSS of `tedge run all --mappers c8y,collectd`, MiB, by architecture. */
  readonly idleRssMiB: Readonly<Record<string, number>>;
  /** .deb sizes in bytes, by Debian architecture. */
  readonly debBytes: Readonly<Record<string, number>>;
}

export interface Verdict {
  readonly what: string;
  readonly measured: number;
  readonly bar: number;
  readonly limit: number;
  readonly ok: boolean;
}

/** measured ≤ bar × (1 + tolerance). */
export function judge(what: string, measured: number, bar: number, tolerance: number): Verdict {
  const limit = bar * (1 + tolerance);
  return { what, measured, bar, limit, ok: measured <= limit };
}

async function main(): Promise<number> {
  const bars = JSON.parse(readFileSync(join(REPO_ROOT, 'packaging', 'footprint-bars.json'), 'utf8')) as Bars;
  const packages = join(REPO_ROOT, 'dist', 'packages');
  const verdicts: Verdict[] = [];
  for (const file of existsSync(packages) ? readdirSync(packages) : []) {
    const arch = /^tedge_.*_([a-z0-9]+)\.deb$/.exec(file)?.[1];
    const bar = arch === undefined ? undefined : bars.debBytes[arch];
    if (bar !== undefined) verdicts.push(judge(`${file} bytes`, statSync(join(packages, file)).size, bar, bars.tolerance));
  }
  const sea = join(packages, 'tedge-x86_64');
  const rssBar = bars.idleRssMiB['x86_64'];
  if (process.env['BARS_SKIP_RSS'] !== '1' && existsSync(sea) && rssBar !== undefined) {
    const idleSeconds = Number(process.env['BARS_IDLE_SECONDS'] ?? 40);
    const m = await measureVariant(
      {
        name: 'bars',
        what: 'run all, runtime.env',
        args: ['run', 'all', '--mappers', 'c8y,collectd'],
        services: ['tedge-agent', 'tedge-mapper-c8y', 'tedge-mapper-collectd'],
        env: runtimeEnvironment(),
      },
      undefined,
      idleSeconds,
    );
    verdicts.push(judge('tedge-x86_64 run all, idle RSS MiB', m.memory.rss / 1048576, rssBar, bars.tolerance));
  }
  if (verdicts.length === 0) {
    console.error('footprint bars: nothing to check (no package in dist/packages): npm run package first');
    return 1;
  }
  for (const v of verdicts) {
    console.log(`${v.ok ? 'ok  ' : 'FAIL'} ${v.what}: ${v.measured.toFixed(1)} (bar ${v.bar}, limit ${v.limit.toFixed(1)})`);
  }
  return verdicts.every((v) => v.ok) ? 0 : 1;
}

if (require.main === module && process.env['NODE_TEST_CONTEXT'] === undefined) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
