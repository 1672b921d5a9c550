import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CommandLogs } from '../../../../src/agent/operations/command-log';
import { CommandStore } from '../../../../src/agent/operations/command-store';
import { AGENT_RESTARTED_REASON } from '../../../../src/agent/operations/command-transitions';
import { CommandExecutor, type HandlerEnvironment } from '../../../../src/agent/operations/executor';
import type { CommandRun, HandlerContext, OperationHandler, Outcome } from '../../../../src/agent/operations/operation';
import { MemoryBroker, type MemoryBus } from '../../../../src/bus/memory-bus';
import { fixedClock } from '../../../../src/core/clock';
import type { JsonObject } from '../../../../src/core/json';
import { type Message, message, payloadText } from '../../../../src/core/message';
import { silentLogger } from '../../../../src/log/logger';

const DEVICE = 'device/main//';
const CMD = 'te/device/main///cmd/test_op/1';

/** A handler the test finishes by hand, recording what the executor had done when it was called. */
class ManualHandler implements OperationHandler {
  readonly operation = 'test_op';
  readonly runs: Array<{ run: CommandRun; finish: (o: Outcome) => void; fileAtStart: string | undefined; publishedAtStart: string[] }> = [];
  resume?: (run: CommandRun) => Promise<Outcome>;
  capabilityValue: JsonObject | undefined = { types: ['a'] };
  context: HandlerContext | undefined;

  constructor(private readonly observe: () => { file: string | undefined; published: string[] }) {}

  async start(ctx: HandlerContext): Promise<void> {
    this.context = ctx;
  }

  async capability(): Promise<JsonObject | undefined> {
    return this.capabilityValue;
  }

  /** What had happened when `prepare` ran: the state file, the published states, the acks. */
  prepared: Array<{ file: string | undefined; published: string[]; acked: number }> = [];
  failPrepare = false;
  acks: () => number = () => 0;

  async prepare(): Promise<void> {
    const seen = this.observe();
    this.prepared.push({ ...seen, acked: this.acks() });
    if (this.failPrepare) throw new Error('cannot write the marker');
  }

  execute(run: CommandRun): Promise<Outcome> {
    return new Promise((finish) => {
      const seen = this.observe();
      this.runs.push({ run, finish, fileAtStart: seen.file, publishedAtStart: seen.published });
    });
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('the command executor (in-memory bus)', () => {
  let dir: string;
  let broker: MemoryBroker;
  let bus: MemoryBus;
  let requester: MemoryBus;
  let acked: Message[];
  let errors: string[];
  let handler: ManualHandler;
  let executor: CommandExecutor;
  const stateDir = (): string => join(dir, 'workflows');

  function texts(topic: string): string[] {
    return broker.published.filter((m) => m.topic === topic).map((m) => payloadText(m));
  }

  function makeExecutor(): CommandExecutor {
    const environment: HandlerEnvironment = {
      device: DEVICE,
      configDir: dir,
      config: { string: () => '', text: () => undefined, number: () => 0, boolean: () => false, list: () => [] },
      reportError: (t) => errors.push(t),
    };
    bus = broker.connect();
    const ex = new CommandExecutor({
      bus,
      handlers: [handler],
      environment,
      store: new CommandStore(stateDir()),
      logs: new CommandLogs(join(dir, 'logs'), 5, fixedClock(new Date('2026-01-01T00:00:00Z'))),
      logger: silentLogger(),
      options: { topicRoot: 'te', device: DEVICE, filters: ['te/+/+/+/+/cmd/+/+'], stopDeadlineMs: 100 },
    });
    bus.onMessage((m) => ex.handle(m, () => acked.push(m)));
    return ex;
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-executor-'));
    broker = new MemoryBroker();
    requester = broker.connect();
    acked = [];
    errors = [];
    handler = new ManualHandler(() => {
      const files = existsSync(stateDir()) ? readdirSync(stateDir()) : [];
      return { file: files[0] && readFileSync(join(stateDir(), files[0]), 'utf8'), published: texts(CMD) };
    });
    handler.acks = () => acked.length;
    executor = makeExecutor();
    await executor.start();
  });

  afterEach(async () => {
    await executor.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes the capability retained at start and again when the handler says it changed', async () => {
    assert.deepEqual(texts('te/device/main///cmd/test_op'), ['{"types":["a"]}']);
    handler.capabilityValue = undefined;
    handler.context?.capabilityChanged();
    await tick();
    assert.deepEqual(texts('te/device/main///cmd/test_op'), ['{"types":["a"]}', ''], 'no capability now: the retained one is cleared');
  });

  it('persists executing before publishing it and before the handler acts; acks after; keeps unknown fields', async () => {
    await requester.publish(message(CMD, '{"status":"init","extra":{"k":[1,2]}}', { qos: 1, retain: true }));
    await tick();
    const [first] = handler.runs;
    assert.ok(first, 'the handler runs');
    assert.deepEqual(JSON.parse(first.fileAtStart ?? '{}'), { topic: CMD, payload: { status: 'executing', extra: { k: [1, 2] } } });
    assert.deepEqual(first.publishedAtStart.map((t) => JSON.parse(t)), [{ status: 'init', extra: { k: [1, 2] } }, { status: 'executing', extra: { k: [1, 2] } }]);
    assert.ok(acked.some((m) => m.topic === CMD && payloadText(m).includes('init')), 'the request is acknowledged');

    first.finish({ status: 'successful', payload: { result: 'ok' } });
    await tick();
    assert.deepEqual(JSON.parse(texts(CMD).at(-1) ?? ''), { status: 'successful', extra: { k: [1, 2] }, result: 'ok' });
    const kept = JSON.parse(readFileSync(join(stateDir(), 'test_op-1.json'), 'utf8')) as { delivered?: boolean; payload: JsonObject };
    assert.deepEqual(kept, { topic: CMD, payload: { status: 'successful', extra: { k: [1, 2] }, result: 'ok' }, delivered: true }, 'kept until cleared');
    // Handed over again by the broker (its PUBACK lost with a connection): recognised, not run twice.
    await requester.publish(message(CMD, '{"status":"init","extra":{"k":[1,2]}}', { qos: 1 }));
    await tick();
    assert.equal(handler.runs.length, 1);
    await requester.publish(message(CMD, '', { qos: 1, retain: true }));
    await tick();
    assert.deepEqual(readdirSync(stateDir()), [], 'cleared: forgotten');
    assert.match(readFileSync(join(dir, 'logs', 'workflow-test_op-1.log'), 'utf8'), /received.*\n.*finished: successful/);
  });

  it('prepares after persisting and before publishing executing; the request is acknowledged only after that', async () => {
    await requester.publish(message(CMD, '{"status":"init"}', { qos: 1, retain: true }));
    await tick();
    assert.deepEqual(handler.prepared, [{ file: `${JSON.stringify({ topic: CMD, payload: { status: 'executing' } })}\n`, published: ['{"status":"init"}'], acked: 0 }]);
    assert.deepEqual(acked.map((m) => payloadText(m)), ['{"status":"init"}', '{"status":"executing"}'], 'the request, then our own echo');
  });

  it('fails a command whose prepare fails, before executing is published and without running it', async () => {
    handler.failPrepare = true;
    await requester.publish(message(CMD, '{"status":"init"}', { qos: 1, retain: true }));
    await tick();
    assert.deepEqual(texts(CMD), ['{"status":"init"}', '{"status":"failed","reason":"cannot write the marker"}']);
    assert.equal(handler.runs.length, 0);
  });

  it('ends a malformed request failed with the reason', async () => {
    await requester.publish(message(CMD, '{"status": 12}', { qos: 1, retain: true }));
    await tick();
    assert.deepEqual(JSON.parse(texts(CMD).at(-1) ?? ''), { status: 'failed', reason: 'Invalid command: "status" must be a string' });
    assert.equal(handler.runs.length, 0);
  });

  it('ignores other entities and operations it has no handler for, acknowledging them', async () => {
    await requester.publish(message('te/device/child1///cmd/test_op/1', '{"status":"init"}', { qos: 1, retain: true }));
    await requester.publish(message('te/device/main///cmd/other_op/1', '{"status":"init"}', { qos: 1, retain: true }));
    await tick();
    assert.equal(handler.runs.length, 0);
    assert.deepEqual(texts('te/device/child1///cmd/test_op/1'), ['{"status":"init"}']);
    assert.deepEqual(texts('te/device/main///cmd/other_op/1'), ['{"status":"init"}']);
    assert.equal(acked.length, 2);
  });

  it('forgets a command cleared while it runs: state file removed, result not published', async () => {
    await requester.publish(message(CMD, '{"status":"init"}', { qos: 1, retain: true }));
    await tick();
    await requester.publish(message(CMD, '', { qos: 1, retain: true }));
    await tick();
    assert.deepEqual(readdirSync(stateDir()), []);
    handler.runs[0]?.finish({ status: 'successful' });
    await tick();
    assert.deepEqual(texts(CMD), ['{"status":"init"}', '{"status":"executing"}', '']);
  });

  it('after a restart, fails a command its handler cannot resume, and resumes one it can', async () => {
    await requester.publish(message(CMD, '{"status":"init","a":1}', { qos: 1, retain: true }));
    await tick();
    await executor.stop(); // the handler is still running: left persisted
    assert.equal(readdirSync(stateDir()).length, 1);

    executor = makeExecutor();
    await executor.start();
    await tick();
    assert.deepEqual(JSON.parse(texts(CMD).at(-1) ?? ''), { status: 'failed', a: 1, reason: AGENT_RESTARTED_REASON });
    await requester.publish(message(CMD, '', { qos: 1, retain: true }));

    await requester.publish(message('te/device/main///cmd/test_op/2', '{"status":"init"}', { qos: 1, retain: true }));
    await tick();
    await executor.stop();
    handler.resume = async (run) => ({ status: 'successful', payload: { resumedFrom: String(run.payload['status']) } });
    executor = makeExecutor();
    await executor.start();
    await tick();
    assert.deepEqual(JSON.parse(texts('te/device/main///cmd/test_op/2').at(-1) ?? ''), { status: 'successful', resumedFrom: 'executing' });
  });

  it('at start publishes again a result the broker may not have got, and only that one', async () => {
    await executor.stop();
    const store = new CommandStore(stateDir());
    store.save('test_op', 'sent', { topic: 'te/device/main///cmd/test_op/sent', payload: { status: 'successful' }, delivered: true });
    store.save('test_op', 'unsent', { topic: 'te/device/main///cmd/test_op/unsent', payload: { status: 'failed', reason: 'r' } });
    executor = makeExecutor();
    await executor.start();
    await tick();
    assert.deepEqual(texts('te/device/main///cmd/test_op/sent'), []);
    assert.deepEqual(texts('te/device/main///cmd/test_op/unsent'), ['{"status":"failed","reason":"r"}']);
    assert.equal(store.load().commands.find((c) => c.topic.endsWith('unsent'))?.delivered, true);
  });

  it('runs an init request retained while the agent was down', async () => {
    await executor.stop();
    await requester.publish(message(CMD, '{"status":"init"}', { qos: 1, retain: true }));
    executor = makeExecutor();
    await executor.start();
    await tick();
    assert.equal(handler.runs.length, 1);
    assert.equal(JSON.parse(texts(CMD).at(-1) ?? '').status, 'executing');
  });

  it('fails a command when its state cannot be persisted, without running it', async () => {
    rmSync(stateDir(), { recursive: true, force: true });
    // A file where the directory should be: every write fails.
    (await import('node:fs')).writeFileSync(stateDir(), '');
    await requester.publish(message(CMD, '{"status":"init"}', { qos: 1, retain: true }));
    await tick();
    await tick();
    assert.equal(handler.runs.length, 0);
    const last = JSON.parse(texts(CMD).at(-1) ?? '{}') as { status?: string; reason?: string };
    assert.equal(last.status, 'failed');
    assert.match(last.reason ?? '', /cannot persist the command state/);
  });
});
