/**
 * Part of `npm run bench:flows`: the az and aws mappers' converters against the same mappers running their
 * generated `mea.toml` (the default since the built-in mappers run their flows), per message as
 * MapperRuntime calls convert(), in alternated rounds (a shared machine's load weighs on both alike).
 * The payloads have no time (add-timestamp adds it) and alternate main device and child.
 *
 * Environment: BENCH_MESSAGES (default 200000), BENCH_ROUNDS (default 3).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Converter } from '../../src/core/converter';
import { message } from '../../src/core/message';
import { meaFlowToml } from '../../src/flows/builtin-flows';
import { FlowsConverter, installBuiltinFlow } from '../../src/flows/flows-converter';
import { AwsConverter } from '../../src/mapper/aws/converter';
import { AzConverter } from '../../src/mapper/az/converter';

const N = Number(process.env['BENCH_MESSAGES'] ?? 200_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const TOPICS = ['te/+/+/+/+/m/+', 'te/+/+/+/+/e/+', 'te/+/+/+/+/a/+', 'te/+/+/+/+/status/health'];
const inputs = Array.from({ length: 100 }, (_, i) => message(i % 2 === 0 ? `te/device/main///m/env${i % 10}` : `te/device/child///m/env${i % 10}`, '{"temperature":21.5,"humidity":40}'));

function rate(converter: Converter, count: number): number {
  const now = new Date();
  let out = 0;
  const started = performance.now();
  for (let i = 0; i < count; i++) out += converter.convert(inputs[i % 100] as (typeof inputs)[number], now).length;
  return (out / (performance.now() - started)) * 1000;
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'mea-bench-'));
  try {
    console.log(`az/aws: built-in converter vs its mea.toml, ${ROUNDS} rounds of ${N} messages (load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}):`);
    console.log(`${'round'.padEnd(7)}${'az built-in'.padEnd(14)}${'az mea.toml'.padEnd(14)}${'aws built-in'.padEnd(14)}aws mea.toml`);
    const pairs = (['az', 'aws'] as const).map((cloud): [Converter, Converter] => {
      const settings = { topics: TOPICS, prefix: cloud, timestampFormat: 'unix' as const, maxPayloadSize: 262144, maxPayloadSizeKey: `${cloud}.mapper.mqtt.max_payload_size` };
      // A directory per cloud: a FlowsConverter runs every flow of its directory.
      const flowsDir = mkdtempSync(join(dir, `${cloud}-`));
      installBuiltinFlow(flowsDir, 'mea', meaFlowToml(cloud, settings));
      return [cloud === 'az' ? new AzConverter(settings) : new AwsConverter(settings), new FlowsConverter(flowsDir, 'te/errors')];
    });
    for (const [builtIn, flows] of pairs) for (const c of [builtIn, flows]) rate(c, 20_000); // warm-up
    const k = (v: number): string => `${Math.round(v / 1000)} k/s`.padEnd(14);
    for (let round = 1; round <= ROUNDS; round++) {
      console.log(`${String(round).padEnd(7)}${pairs.map(([builtIn, flows]) => k(rate(builtIn, N)) + k(rate(flows, N))).join('')}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
