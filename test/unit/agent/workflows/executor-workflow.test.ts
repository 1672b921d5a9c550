import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CommandLogs } from '../../../../src/agent/operations/command-log';
import { CommandStore } from '../../../../src/agent/operations/command-store';
import { transition } from '../../../../src/agent/operations/command-transitions';
import { CommandExecutor } from '../../../../src/agent/operations/executor';
import type { CommandRun, OperationHandler, Outcome, StepResult } from '../../../../src/agent/operations/operation';
import { WorkflowEngine } from '../../../../src/agent/workflows/engine';
import { parseWorkflowFile } from '../../../../src/agent/workflows/parse';
import { WorkflowOperationHandler } from '../../../../src/agent/workflows/workflow-handler';
import { MemoryBroker, type MemoryBus } from '../../../../src/bus/memory-bus';
import { fixedClock } from '../../../../src/core/clock';
import { message, payloadText } from '../../../../src/core/message';
import { silentLogger } from '../../../../src/log/logger';

const DEVICE = 'device/main//';
const tick = async (n = 5): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/** The executor over one workflow handler, its state and logs under `dir`, started on `bus`. */
async function startExecutor(bus: MemoryBus, wrapper: OperationHandler, dir: string): Promise<CommandExecutor> {
  const executor = new CommandExecutor({
    bus,
    handlers: [wrapper],
    environment: { device: DEVICE, configDir: dir, config: { string: () => dir, text: () => undefined, number: () => 0, boolean: () => false, list: () => [] }, reportError: () => {} },
    store: new CommandStore(join(dir, 'workflows')),
    logs: new CommandLogs(join(dir, 'logs'), 5, fixedClock(new Date('2026-01-01T00:00:00Z'))),
    logger: silentLogger(),
    options: { topicRoot: 'te', device: DEVICE, filters: ['te/+/+/+/+/cmd/+/+'], stopDeadlineMs: 100 },
  });
  bus.onMessage((m) => executor.handle(m, () => {}));
  await executor.start();
  return executor;
}

describe('command transitions of a workflow (the handler owns its states)', () => {
  it('init is persisted as it is and the handler runs; nothing is published until it advances', () => {
    const step = transition(undefined, { kind: 'request', payload: { status: 'init', x: 1 }, workflow: true });
    assert.deepEqual(step.state, { phase: 'running', payload: { status: 'init', x: 1 } });
    assert.deepEqual(step.effects.map((e) => e.kind), ['log', 'persist', 'run']);
  });
  it('restored at init runs the init state again; restored elsewhere resumes there', () => {
    assert.deepEqual(transition(undefined, { kind: 'restored', payload: { status: 'init' }, resumable: true, workflow: true }).effects.map((e) => e.kind), ['log', 'persist', 'run']);
    const resumed = transition(undefined, { kind: 'restored', payload: { status: 'download' }, resumable: true, workflow: true });
    assert.deepEqual(resumed.effects.map((e) => e.kind), ['log', 'publish', 'run']);
  });
  it('advance: persisted then published; never to a terminal state or back to init', () => {
    const running = { phase: 'running', payload: { status: 'init', x: 1 } } as const;
    const step = transition(running, { kind: 'advance', status: 'download', update: { url: 'u' } });
    assert.deepEqual(step.effects.map((e) => e.kind), ['log', 'persist', 'publish']);
    assert.deepEqual(step.state, { phase: 'running', payload: { status: 'download', x: 1, url: 'u' } });
    assert.deepEqual(transition(running, { kind: 'advance', status: 'successful', update: {} }).effects, []);
    assert.deepEqual(transition(running, { kind: 'advance', status: 'init', update: {} }).effects, []);
  });
});

describe('the executor running a workflow handler (in-memory bus)', () => {
  let dir: string;
  let broker: MemoryBroker;
  let bus: MemoryBus;
  let executor: CommandExecutor;
  const builtinRuns: string[] = [];

  /** A builtin that records the status it was handed and succeeds with a result. */
  const builtin: OperationHandler = {
    operation: 'thing',
    capability: async () => ({ types: ['t'] }),
    execute: async (run: CommandRun): Promise<Outcome> => {
      builtinRuns.push(String(run.payload['status']));
      return { status: 'successful', payload: { result: 'done' } };
    },
  };

  function texts(topic: string): string[] {
    return broker.published.filter((m) => m.topic === topic).map((m) => payloadText(m));
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-wf-exec-'));
    broker = new MemoryBroker();
    bus = broker.connect();
    builtinRuns.length = 0;
    const engine = new WorkflowEngine({ builtins: new Map([['thing', builtin]]), download: async () => {}, topicRoot: 'te' });
    const wrapper = new WorkflowOperationHandler('thing', engine, builtin);
    const parsed = parseWorkflowFile(
      `operation = "thing"
init = { action = "proceed", on_success = "scheduled" }
scheduled = { operation = "builtin:thing", on_exec = "executing" }
executing = { action = "await-operation-completion", on_success = "successful" }
`,
      'thing.toml',
    );
    assert.ok(parsed.ok);
    wrapper.setWorkflow(parsed.workflow);
    executor = await startExecutor(bus, wrapper, dir);
  });

  afterEach(async () => {
    await executor.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every state is published in order; the builtin runs in the on_exec state; its result is merged', async () => {
    const CMD = 'te/device/main///cmd/thing/1';
    await broker.connect().publish(message(CMD, '{"status":"init","keep":true}', { qos: 1, retain: true }));
    for (let i = 0; i < 50 && !texts(CMD).some((t) => t.includes('successful')); i++) await tick();
    assert.deepEqual(texts(CMD).map((t) => JSON.parse(t) as unknown), [
      { status: 'init', keep: true },
      { status: 'scheduled', keep: true },
      { status: 'executing', keep: true },
      { status: 'successful', keep: true, result: 'done' },
    ]);
    assert.deepEqual(builtinRuns, ['executing']);
    assert.deepEqual(texts('te/device/main///cmd/thing'), ['{"types":["t"]}'], "a workflow over a builtin offers the builtin's capability");
    assert.match(readFileSync(join(dir, 'logs', 'workflow-thing-1.log'), 'utf8'), /thing @ scheduled → executing/);
  });
});

describe('builtin:<op>:<step> actions through the executor (in-memory bus)', () => {
  let dir: string;
  let broker: MemoryBroker;
  let executor: CommandExecutor;
  const calls: string[] = [];

  /** A builtin with two steps and no capability of its own (as firmware_update without firmware.backend). */
  const stepped: OperationHandler = {
    operation: 'stepped',
    steps: ['first', 'second'],
    capability: async () => undefined,
    execute: async () => ({ status: 'failed', reason: 'not used' }),
    runStep: async (step, run, resumed): Promise<StepResult> => {
      calls.push(`${step}:${String(run.payload['status'])}:${String(run.payload['given'])}:${resumed}`);
      if (step === 'first') {
        await run.checkpoint({ progress: 1 });
        return { ok: true, json: { made: 'by first' } };
      }
      return { ok: false, reason: 'second refused', json: { progress: 2 } };
    },
  };

  function texts(topic: string): string[] {
    return broker.published.filter((m) => m.topic === topic).map((m) => payloadText(m));
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-wf-steps-'));
    broker = new MemoryBroker();
    const bus = broker.connect();
    calls.length = 0;
    const engine = new WorkflowEngine({ builtins: new Map([['stepped', stepped]]), download: async () => {}, topicRoot: 'te' });
    const wrapper = new WorkflowOperationHandler('stepped', engine, stepped);
    const parsed = parseWorkflowFile(
      `operation = "stepped"
[init]
action = "builtin:stepped:first"
input.given = "\${.payload.x}"
on_success = "later"
[later]
action = "builtin:stepped:second"
on_success = "successful"
on_error = "failed"
`,
      'stepped.toml',
      new Set(['stepped', 'stepped:first', 'stepped:second']),
    );
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.errors.join('; '));
    wrapper.setWorkflow(parsed.workflow);
    executor = await startExecutor(bus, wrapper, dir);
  });

  afterEach(async () => {
    await executor.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("each step in its state with input.* merged; what a step checkpoints or returns is kept, on error too; thin-edge's reason", async () => {
    const CMD = 'te/device/main///cmd/stepped/1';
    await broker.connect().publish(message(CMD, '{"status":"init","x":"given-x"}', { qos: 1, retain: true }));
    for (let i = 0; i < 50 && !texts(CMD).some((t) => t.includes('failed')); i++) await tick();
    assert.deepEqual(calls, ['first:init:given-x:false', 'second:later:given-x:false']);
    assert.deepEqual(texts(CMD).map((t) => JSON.parse(t) as unknown).at(-1), {
      status: 'failed',
      x: 'given-x',
      given: 'given-x',
      progress: 2,
      made: 'by first',
      reason: "builtin 'builtin:stepped:second' action failed with: second refused",
    });
    // Made of its own builtin's steps, the workflow is offered only when the builtin is.
    assert.ok(texts('te/device/main///cmd/stepped').every((t) => t === ''), texts('te/device/main///cmd/stepped').join(' | '));
  });
});
