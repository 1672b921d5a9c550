import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { MemoryBroker } from '../../../src/bus/memory-bus';
import { FlowsService } from '../../../src/flows/flows-service';
import { EngineUnderTest, HOLDING_STEP } from './engine-support';

const GROUPING = (window: string): string => `input.mqtt.topics = ["in/g"]\nsteps = [{ builtin = "group-measurements", config = { time_window = "${window}" } }]\noutput.mqtt.topic = "out/g"\n`;
const HOLD_FLOW = (interval: string): string => `input.mqtt.topics = ["in/h"]\nsteps = [{ script = "hold.js", interval = "${interval}" }]\n`;

const engines: EngineUnderTest[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});

async function localMapper(files: Record<string, string>, finalIntervalMs?: number) {
  const e = new EngineUnderTest().write(files);
  engines.push(e);
  const service = new FlowsService({ bus: new MemoryBroker().connect(), engine: e.engine, flowsDir: e.dir, logger: e.logger, statsIntervalMs: 60_000, tickMs: 60_000, ...(finalIntervalMs !== undefined && { finalIntervalMs }) });
  await service.start();
  return { e, service };
}

describe("the local mapper's flows at a stop and a reload (FlowsService)", () => {
  it('a stop runs the final onInterval of every step and publishes what they held (a young group-measurements batch, a script\'s inputs)', async () => {
    const { e, service } = await localMapper({ 'g.toml': GROUPING('1h'), 'h.toml': HOLD_FLOW('1h'), 'hold.js': HOLDING_STEP });
    await e.send('in/g', '{"t":1}');
    await e.send('in/g', '{"u":2}');
    await e.send('in/h', 'a');
    assert.deepEqual(e.take(), [], 'held');
    await service.stop();
    assert.deepEqual(e.take().sort(), ['[out/g] {"t":1,"u":2,"time":1735689600}', '[out/held] a']);
  });

  it('a reload replacing a flow publishes what its old version held, a script\'s once (its emptied context.script carries over)', async () => {
    const { e, service } = await localMapper({ 'g.toml': GROUPING('1h'), 'h.toml': HOLD_FLOW('1h'), 'hold.js': HOLDING_STEP });
    await e.send('in/g', '{"t":1}');
    await e.send('in/h', 'a');
    e.write({ 'g.toml': GROUPING('2h'), 'h.toml': HOLD_FLOW('2h') });
    await service.reload();
    assert.deepEqual(e.take().sort(), ['[out/g] {"t":1,"time":1735689600}', '[out/held] a']);
    await service.stop();
    assert.deepEqual(e.take(), [], 'nothing held twice');
  });

  it('a stop does not wait longer than its bound for a final onInterval that does not answer', async () => {
    const slow = 'export function onMessage(m) { return []; }\nexport function onInterval() { const t = Date.now() + 150; while (Date.now() < t) {} return []; }';
    const { service } = await localMapper({ 's.toml': 'input.mqtt.topics = ["in/s"]\nsteps = [{ script = "slow.js" }]\n', 'slow.js': slow }, 30);
    const started = Date.now();
    await service.stop();
    assert.ok(Date.now() - started < 140, `stopped in ${Date.now() - started} ms`);
  });
});
