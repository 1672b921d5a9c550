import assert from 'node:assert/strict';
import { AsyncResource } from 'node:async_hooks';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../src/log/logger';
import { type Component, type ComponentContext, type ComponentInstance, type ComponentKind, EXIT_RESTART_REQUIRED, Supervisor, type SupervisorExit } from '../../../src/runtime/supervisor';
import { ManualTime } from '../../helpers/manual-time';

/** Lets promise chains and setImmediate callbacks run. */
async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/** A component that records what happens to it; its behaviour per start is scripted. */
class FakeComponent implements Component {
  starts = 0;
  stops = 0;
  ctx: ComponentContext | undefined;
  /** Runs `fn` later as a callback of this instance would (an I/O callback in its async context). */
  callback: AsyncResource | undefined;
  failStarts = 0;
  startGate: Promise<void> | undefined;
  stopGate: Promise<void> | undefined;

  constructor(
    readonly name: string,
    readonly kind: ComponentKind,
    private readonly journal: string[],
  ) {}

  async start(ctx: ComponentContext): Promise<ComponentInstance> {
    this.starts++;
    this.journal.push(`start ${this.name}`);
    this.ctx = ctx;
    this.callback = new AsyncResource('fake-io');
    if (this.startGate) await this.startGate;
    if (this.failStarts > 0) {
      this.failStarts--;
      throw new Error(`${this.name} cannot start`);
    }
    return {
      stop: async () => {
        this.stops++;
        this.journal.push(`stop ${this.name}`);
        if (this.stopGate) await this.stopGate;
      },
    };
  }
}

function setup(policy: Partial<{ initialDelayMs: number; maxDelayMs: number; maxRestarts: number; windowMs: number; stopTimeoutMs: number }> = {}) {
  const journal: string[] = [];
  const time = new ManualTime(new Date('2026-01-01T00:00:00Z'));
  const agent = new FakeComponent('tedge-agent', 'agent', journal);
  const c8y = new FakeComponent('tedge-mapper-c8y', 'mapper', journal);
  const az = new FakeComponent('tedge-mapper-az', 'mapper', journal);
  // Given mappers first: the supervisor still starts the agent first.
  const supervisor = new Supervisor([c8y, az, agent], {
    clock: time,
    timers: time,
    logger: silentLogger(),
    policy: { initialDelayMs: 1000, maxDelayMs: 8000, maxRestarts: 3, windowMs: 60_000, stopTimeoutMs: 5000, ...policy },
  });
  const state = (name: string): string | undefined => supervisor.status().find((s) => s.name === name)?.state;
  return { journal, time, agent, c8y, az, supervisor, state };
}

describe('supervisor', () => {
  it('starts the agent first, then the mappers, and reports them running', async () => {
    const { supervisor, journal, state } = setup();
    await supervisor.start();
    assert.deepEqual(journal, ['start tedge-agent', 'start tedge-mapper-c8y', 'start tedge-mapper-az']);
    assert.deepEqual(
      supervisor.status().map((s) => s.state),
      ['running', 'running', 'running'],
    );
    assert.equal(state('tedge-agent'), 'running');
  });

  it('starts the mappers without waiting for the agent to be up', async () => {
    const { supervisor, agent, state } = setup();
    agent.startGate = new Promise(() => {}); // never up
    void supervisor.start();
    await settle();
    assert.equal(state('tedge-agent'), 'starting');
    assert.equal(state('tedge-mapper-c8y'), 'running');
    assert.equal(state('tedge-mapper-az'), 'running');
  });

  it('restarts a crashed component after the back-off, and only that one', async () => {
    const { supervisor, time, agent, c8y, az, state } = setup();
    await supervisor.start();
    c8y.ctx?.failed(new Error('boom'));
    await settle();
    assert.equal(c8y.stops, 1, 'the crashed instance is stopped');
    assert.equal(state('tedge-mapper-c8y'), 'backoff');
    time.advance(999);
    await settle();
    assert.equal(c8y.starts, 1);
    time.advance(1);
    await settle();
    assert.equal(c8y.starts, 2);
    assert.equal(state('tedge-mapper-c8y'), 'running');
    assert.equal(agent.stops + az.stops, 0, 'the others are untouched');
    assert.equal(agent.starts + az.starts, 2);
    assert.equal(supervisor.status().find((s) => s.name === 'tedge-mapper-c8y')?.lastError, 'boom');
  });

  it('doubles the back-off for each crash within the window, up to the maximum', async () => {
    const { supervisor, time, c8y } = setup({ maxRestarts: 10 });
    await supervisor.start();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = c8y.starts;
      c8y.ctx?.failed(new Error(`crash ${i}`));
      await settle();
      let waited = 0;
      while (c8y.starts === before) {
        time.advance(500);
        waited += 500;
        await settle();
      }
      delays.push(waited);
    }
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 8000]);
  });

  it('treats a failed start as a crash and retries it', async () => {
    const { supervisor, time, agent, state } = setup();
    agent.failStarts = 2;
    await supervisor.start();
    assert.equal(state('tedge-agent'), 'backoff');
    time.advance(1000);
    await settle();
    assert.equal(state('tedge-agent'), 'backoff');
    time.advance(2000);
    await settle();
    assert.equal(state('tedge-agent'), 'running');
    assert.equal(agent.starts, 3);
  });

  it('gives up on a component that keeps crashing, without stopping the others or the process', async () => {
    const { supervisor, time, c8y, agent, state } = setup({ maxRestarts: 3 });
    let exited: SupervisorExit | undefined;
    void supervisor.exit.then((e) => (exited = e));
    await supervisor.start();
    for (let i = 0; i < 4; i++) {
      c8y.ctx?.failed(new Error('again'));
      await settle();
      time.advance(10_000);
      await settle();
    }
    assert.equal(state('tedge-mapper-c8y'), 'given-up');
    assert.equal(c8y.starts, 4, 'the first start and three restarts');
    time.advance(60_000);
    await settle();
    assert.equal(c8y.starts, 4, 'no more restarts');
    assert.equal(state('tedge-agent'), 'running');
    assert.equal(agent.stops, 0);
    assert.equal(exited, undefined);
  });

  it('forgets crashes older than the window', async () => {
    const { supervisor, time, c8y, state } = setup({ maxRestarts: 1, windowMs: 60_000 });
    await supervisor.start();
    for (let i = 0; i < 3; i++) {
      c8y.ctx?.failed(new Error('now and then'));
      await settle();
      time.advance(61_000);
      await settle();
      assert.equal(state('tedge-mapper-c8y'), 'running', `crash ${i + 1}`);
    }
  });

  it('attributes an error escaping from a component callback to that component', async () => {
    const { supervisor, time, c8y, az, agent, state } = setup();
    await supervisor.start();
    const err = new Error('thrown in a message handler');
    const attributed = c8y.callback?.runInAsyncScope(() => supervisor.handleUncaught(err));
    assert.equal(attributed, true);
    assert.equal(supervisor.handleUncaught(new Error('nobody owns this')), false);
    await settle();
    assert.equal(state('tedge-mapper-c8y'), 'backoff');
    time.advance(1000);
    await settle();
    assert.equal(state('tedge-mapper-c8y'), 'running');
    assert.equal(az.stops + agent.stops, 0);
  });

  it('attributes errors through timers and promises the component created', async () => {
    const { supervisor, c8y } = setup();
    await supervisor.start();
    const owner = await new Promise<string | undefined>((resolve) => {
      c8y.callback?.runInAsyncScope(() => {
        setTimeout(() => {
          void Promise.resolve().then(() => resolve(supervisor.currentComponent()));
        }, 1);
      });
    });
    assert.equal(owner, 'tedge-mapper-c8y');
  });

  it('ignores errors of an instance that has already been replaced', async () => {
    const { supervisor, time, c8y, state } = setup();
    await supervisor.start();
    const oldCtx = c8y.ctx;
    const oldCallback = c8y.callback;
    oldCtx?.failed(new Error('first'));
    await settle();
    time.advance(1000);
    await settle();
    assert.equal(c8y.starts, 2);
    oldCtx?.failed(new Error('late error of the old instance'));
    oldCallback?.runInAsyncScope(() => supervisor.handleUncaught(new Error('late uncaught of the old instance')));
    oldCtx?.restartRequired('late');
    await settle();
    assert.equal(state('tedge-mapper-c8y'), 'running');
    assert.equal(supervisor.status().find((s) => s.name === 'tedge-mapper-c8y')?.crashes, 1);
  });

  it('settles `exit` with a non-zero code when a component requires a restart of the process', async () => {
    const { supervisor, agent } = setup();
    await supervisor.start();
    agent.ctx?.restartRequired('tedge was updated');
    const exit = await supervisor.exit;
    assert.equal(exit.code, EXIT_RESTART_REQUIRED);
    assert.notEqual(exit.code, 0);
    assert.match(exit.reason, /tedge-agent: tedge was updated/);
  });

  it('stops every component at once, and abandons one that does not stop in time', async () => {
    const { supervisor, time, journal, c8y } = setup({ stopTimeoutMs: 5000 });
    await supervisor.start();
    journal.length = 0;
    c8y.stopGate = new Promise(() => {}); // hangs
    let result: { abandoned: readonly string[] } | undefined;
    void supervisor.stop().then((r) => (result = r));
    await settle();
    assert.deepEqual([...journal].sort(), ['stop tedge-agent', 'stop tedge-mapper-az', 'stop tedge-mapper-c8y']);
    assert.equal(result, undefined, 'waits for the hanging component');
    time.advance(5000);
    await settle();
    assert.deepEqual(result, { abandoned: ['tedge-mapper-c8y'] });
    assert.deepEqual(
      supervisor.status().map((s) => s.state),
      ['stopped', 'stopped', 'stopped'],
    );
  });

  it('does not restart a crashed component once stopping', async () => {
    const { supervisor, time, c8y } = setup();
    await supervisor.start();
    c8y.ctx?.failed(new Error('crash'));
    await settle();
    await supervisor.stop();
    time.advance(60_000);
    await settle();
    assert.equal(c8y.starts, 1);
    assert.equal(time.pending, 0, 'no timer left armed');
  });

  it('restarts the mappers, and only them, on request; requests do not stack', async () => {
    const { supervisor, agent, c8y, az, state } = setup();
    await supervisor.start();
    c8y.stopGate = new Promise((resolve) => setTimeout(resolve, 20));
    supervisor.restartAll('mapper');
    supervisor.restartAll('mapper'); // while restarting: ignored
    assert.equal(state('tedge-mapper-c8y'), 'restarting');
    await new Promise((r) => setTimeout(r, 40));
    await settle();
    assert.equal(c8y.starts, 2);
    assert.equal(az.starts, 2);
    assert.equal(agent.starts, 1);
    assert.equal(agent.stops, 0);
    assert.equal(state('tedge-mapper-c8y'), 'running');
  });

  it('rejects two components with the same name', () => {
    const journal: string[] = [];
    const time = new ManualTime(new Date(0));
    assert.throws(
      () => new Supervisor([new FakeComponent('x', 'mapper', journal), new FakeComponent('x', 'mapper', journal)], { clock: time, timers: time, logger: silentLogger() }),
      /two supervised components are named x/,
    );
  });
});
