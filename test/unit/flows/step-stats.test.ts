import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { message } from '../../../src/core/message';
import { FlowEngine } from '../../../src/flows/flow-engine';
import { NO_STEP_STATS, StepCounters, type StepStatsFilter, StepStatsTotals, formatDuration } from '../../../src/flows/step-stats';
import { createLogger } from '../../../src/log/logger';

describe('cpu-min / cpu-max as Rust prints a Duration', () => {
  for (const [ns, text] of [
    [0, '0ns'],
    [12, '12ns'],
    [1000, '1µs'],
    [3500, '3.5µs'],
    [1_250_000, '1.25ms'],
    [999_999_999, '999.999999ms'],
    [2_000_001_000, '2.000001s'],
    [12.6, '13ns'],
  ] as const) {
    it(`${ns} ns is ${text}`, () => assert.equal(formatDuration(ns), text));
  }
});

describe('step counters', () => {
  it('sum calls, outputs and errors per step function; a batch time is shared by its messages; take empties', () => {
    const c = new StepCounters();
    c.record('main.js', 'onMessage', 4, 3, 1, 4000);
    c.record('main.js', 'onMessage', 1, 1, 0, 9000);
    c.record('main.js', 'onInterval', 1, 2, 0, 500);
    c.record('main.js', 'onStartup', 0, 0, 0, 100);
    const totals = new StepStatsTotals();
    totals.add(c.take());
    assert.equal(c.take(), undefined, 'nothing since the last take');
    const all: StepStatsFilter = { onMessage: true, onInterval: true, onStartup: true };
    assert.deepEqual(totals.records(all), [
      { name: 'main.js', payload: { type: 'onMessage', input: 5, output: 4, error: 1, 'cpu-min': '1µs', 'cpu-max': '9µs' } },
      { name: 'main.js.onInterval', payload: { type: 'onInterval', input: 1, output: 2, error: 0, 'cpu-min': '500ns', 'cpu-max': '500ns' } },
    ]);
    assert.deepEqual(totals.records({ ...NO_STEP_STATS, onInterval: true }).map((r) => r.name), ['main.js.onInterval']);
    assert.deepEqual(totals.records(NO_STEP_STATS), []);
  });
});

describe('flows.stats.on_message / on_interval / on_startup in the mapper (FlowEngine, a real worker)', () => {
  let dir: string;
  let engine: FlowEngine | undefined;
  afterEach(async () => {
    await engine?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(stepStats: StepStatsFilter | undefined): Promise<Record<string, unknown>> {
    dir = mkdtempSync(join(tmpdir(), 'flows-step-stats-'));
    writeFileSync(join(dir, 'count.toml'), 'input.mqtt.topics = ["in"]\n[[steps]]\nscript = "count.js"\n[[steps]]\nbuiltin = "add-timestamp"\n');
    writeFileSync(join(dir, 'count.js'), [
      'export function onStartup() { return [{ topic: "started", payload: "{}" }]; }',
      'export function onMessage(m) { if (new TextDecoder().decode(m.payload) === "bad") throw new Error("bad"); return [m, m]; }',
      'export function onInterval() { return []; }',
    ].join('\n'));
    let now = Date.UTC(2025, 0, 1);
    engine = new FlowEngine({
      flowsDir: dir, topicRoot: 'te', service: 'tedge-mapper-local', mapperParams: {},
      limits: { callTimeoutMs: 500, heapMb: 16, stackMb: 1 },
      logger: createLogger({ name: 'test', level: 'error', format: 'json', write: () => {} }),
      clock: { now: () => new Date(now) },
      publish: () => {},
      ...(stepStats !== undefined && { stepStats }),
    });
    await engine.sync();
    for (const p of ['{}', 'bad', '{}']) await engine.dispatch(message('in', p));
    now += 1000;
    await engine.tick();
    const byTopic: Record<string, unknown> = {};
    for (const m of engine.statsMessages()) byTopic[m.topic.replace('te/device/main/service/tedge-mapper-local/status/metrics/', '')] = JSON.parse(new TextDecoder().decode(m.payload));
    return byTopic;
  }

  it('all on: each step function has its record next to the flow one', async () => {
    const stats = await run({ onMessage: true, onInterval: true, onStartup: true });
    assert.deepEqual(Object.keys(stats).sort(), ['add-timestamp', 'add-timestamp.onStartup', 'count.js', 'count.js.onInterval', 'count.js.onStartup', 'count.toml']);
    assert.deepEqual(stats['count.toml'], { type: 'flow', input: 3, output: 5, error: 1 });
    // The times vary: their form is checked, then they are left out of the comparison.
    const strip = (v: unknown): unknown => {
      const o = { ...(v as Record<string, unknown>) };
      for (const k of ['cpu-min', 'cpu-max']) {
        assert.match(String(o[k]), /^\d+(\.\d+)?(ns|µs|ms|s)$/);
        delete o[k];
      }
      return o;
    };
    assert.deepEqual(strip(stats['count.js']), { type: 'onMessage', input: 3, output: 4, error: 1 });
    assert.deepEqual(strip(stats['add-timestamp']), { type: 'onMessage', input: 5, output: 5, error: 0 });
    assert.deepEqual(strip(stats['count.js.onStartup']), { type: 'onStartup', input: 1, output: 1, error: 0 });
    assert.deepEqual(strip(stats['count.js.onInterval']), { type: 'onInterval', input: 1, output: 0, error: 0 });
  });

  it('only on_interval: the flow record and the onInterval ones; by default the flow record only', async () => {
    assert.deepEqual(Object.keys(await run({ onMessage: false, onInterval: true, onStartup: false })).sort(), ['count.js.onInterval', 'count.toml']);
    await engine?.stop();
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(Object.keys(await run(undefined)), ['count.toml']);
  });
});
