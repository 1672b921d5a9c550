import assert from 'node:assert/strict';
import { AsyncResource } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../src/log/logger';
import { type ComponentMain, SignalScopes, mainComponent } from '../../../src/runtime/main-component';
import { runSupervised } from '../../../src/runtime/run-supervised';
import { SystemdNotifier } from '../../../src/runtime/sd-notify';
import { type Component, type ComponentContext, EXIT_RESTART_REQUIRED, Supervisor } from '../../../src/runtime/supervisor';
import { ManualTime } from '../../helpers/manual-time';

async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

class Fake implements Component {
  ctx: ComponentContext | undefined;
  resource: AsyncResource | undefined;
  starts = 0;
  stops = 0;
  signals: string[] = [];
  stopGate: Promise<void> | undefined;
  constructor(
    readonly name: string,
    readonly kind: 'agent' | 'mapper',
  ) {}
  async start(ctx: ComponentContext) {
    this.starts++;
    this.ctx = ctx;
    this.resource = new AsyncResource('fake');
    return {
      signal: (name: string) => this.signals.push(name),
      stop: async () => {
        this.stops++;
        if (this.stopGate) await this.stopGate;
      },
    };
  }
}

function setup(env: NodeJS.ProcessEnv = {}, maxRestarts = 10) {
  const time = new ManualTime(new Date('2026-01-01T00:00:00Z'));
  const agent = new Fake('tedge-agent', 'agent');
  const mapper = new Fake('tedge-mapper-c8y', 'mapper');
  const supervisor = new Supervisor([agent, mapper], { clock: time, timers: time, logger: silentLogger(), policy: { stopTimeoutMs: 1000, maxRestarts } });
  const proc = new EventEmitter();
  const notes: string[] = [];
  const systemd = new SystemdNotifier(env, 4242, (cmd, args) => notes.push(`${cmd} ${args.join(' ')}`));
  let code: number | undefined;
  const done = runSupervised({ proc, supervisor, systemd, timers: time, logger: silentLogger(), shutdownTimeoutMs: 3000 }).then((c) => (code = c));
  return { time, agent, mapper, supervisor, proc, notes, done, code: () => code };
}

describe('runSupervised (the process around the supervisor)', () => {
  it('drains every component on SIGTERM and exits 0, telling systemd', async () => {
    const t = setup({ NOTIFY_SOCKET: '/run/systemd/notify' });
    await settle();
    assert.deepEqual(t.notes, ['systemd-notify --pid=4242 READY=1']);
    t.proc.emit('SIGTERM', 'SIGTERM');
    await t.done;
    assert.equal(t.code(), 0);
    assert.equal(t.agent.stops + t.mapper.stops, 2);
    assert.deepEqual(t.notes, ['systemd-notify --pid=4242 READY=1', 'systemd-notify --pid=4242 STOPPING=1']);
    assert.equal(t.proc.listenerCount('SIGTERM'), 0, 'its listeners are removed');
    assert.equal(t.proc.listenerCount('uncaughtException'), 0);
  });

  it('hands SIGHUP (reload the log level) to every running component, and goes on', async () => {
    const t = setup();
    await settle();
    t.proc.emit('SIGHUP', 'SIGHUP');
    assert.deepEqual(t.agent.signals, ['SIGHUP']);
    assert.deepEqual(t.mapper.signals, ['SIGHUP']);
    assert.equal(t.code(), undefined);
    t.proc.emit('SIGTERM', 'SIGTERM');
    await t.done;
  });

  it('exits at once (1) on a second termination signal', async () => {
    const t = setup();
    await settle();
    t.mapper.stopGate = new Promise(() => {});
    t.proc.emit('SIGINT', 'SIGINT');
    await settle();
    assert.equal(t.code(), undefined);
    t.proc.emit('SIGINT', 'SIGINT');
    await t.done;
    assert.equal(t.code(), 1);
  });

  it('exits 1 when the components do not drain within the shutdown timeout', async () => {
    const t = setup();
    await settle();
    t.mapper.stopGate = new Promise(() => {});
    t.proc.emit('SIGTERM', 'SIGTERM');
    await settle();
    t.time.advance(3000);
    await t.done;
    assert.equal(t.code(), 1);
  });

  it('drains and exits non-zero when a component requires a restart', async () => {
    const t = setup();
    await settle();
    t.agent.ctx?.restartRequired('self-update');
    await t.done;
    assert.equal(t.code(), EXIT_RESTART_REQUIRED);
    assert.equal(t.agent.stops + t.mapper.stops, 2);
  });

  it('restarts a component an escaped error belongs to; an error nobody owns is fatal', async () => {
    const t = setup();
    await settle();
    t.mapper.resource?.runInAsyncScope(() => t.proc.emit('uncaughtException', new Error('bug in a handler')));
    await settle();
    assert.equal(t.mapper.stops, 1);
    t.time.advance(1000);
    await settle();
    assert.equal(t.mapper.starts, 2);
    assert.equal(t.code(), undefined, 'the process goes on');
    t.proc.emit('unhandledRejection', new Error('from nowhere'));
    await t.done;
    assert.equal(t.code(), 1);
  });

  it('restarts the mappers on SIGUSR1', async () => {
    const t = setup();
    await settle();
    t.proc.emit('SIGUSR1', 'SIGUSR1');
    await settle();
    assert.equal(t.mapper.starts, 2);
    assert.equal(t.agent.starts, 1);
    t.proc.emit('SIGTERM', 'SIGTERM');
    await t.done;
  });

  it('feeds the watchdog at half of WatchdogSec while no component has been given up on', async () => {
    const t = setup({ NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '20000000' });
    await settle();
    assert.deepEqual(t.notes, ['systemd-notify --pid=4242 READY=1']);
    t.time.advance(10_000);
    assert.deepEqual(t.notes, ['systemd-notify --pid=4242 READY=1', 'systemd-notify --pid=4242 WATCHDOG=1']);
    t.time.advance(10_000);
    assert.equal(t.notes.filter((n) => n.endsWith('WATCHDOG=1')).length, 2);
    t.proc.emit('SIGTERM', 'SIGTERM');
    await t.done;
    t.time.advance(60_000);
    assert.equal(t.notes.filter((n) => n.endsWith('WATCHDOG=1')).length, 2, 'no pings after the stop');
  });

  it('stops feeding the watchdog once a component has been given up on, for systemd to restart the process', async () => {
    const t = setup({ NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '20000000' }, 0);
    await settle();
    t.mapper.ctx?.failed(new Error('broken for good'));
    await settle();
    assert.equal(t.supervisor.status().find((s) => s.name === 'tedge-mapper-c8y')?.state, 'given-up');
    t.time.advance(60_000);
    assert.equal(t.notes.filter((n) => n.endsWith('WATCHDOG=1')).length, 0);
    assert.equal(t.code(), undefined, 'the process itself goes on');
    t.proc.emit('SIGTERM', 'SIGTERM');
    await t.done;
  });

  it('does not use the watchdog when it is meant for another process', () => {
    const sd = new SystemdNotifier({ NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '1000000', WATCHDOG_PID: '1' }, 4242, () => {});
    assert.equal(sd.watchdogIntervalMs(), undefined);
    assert.equal(new SystemdNotifier({ NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '1000000', WATCHDOG_PID: '4242' }, 4242, () => {}).watchdogIntervalMs(), 500);
    assert.equal(new SystemdNotifier({ WATCHDOG_USEC: '1000000' }, 4242, () => {}).watchdogIntervalMs(), undefined);
  });
});

/** A fake `process`: only what a daemon main and the signal routing use. */
function fakeProcess(): NodeJS.Process {
  return new EventEmitter() as unknown as NodeJS.Process;
}

/** A daemon main as the real ones are written: waits for SIGTERM on `process`, then resolves 0. */
function daemonMain(proc: NodeJS.Process, log: string[], opts: { connectMs?: number; exitCode?: number } = {}): ComponentMain {
  return async (argv) => {
    log.push(`main ${argv.join(' ')}`);
    if (opts.connectMs !== undefined) await new Promise((r) => setTimeout(r, opts.connectMs));
    if (opts.exitCode !== undefined) return opts.exitCode;
    const signal = await new Promise<string>((resolve) => proc.once('SIGTERM', () => resolve('SIGTERM')));
    log.push(`${argv[0] ?? ''} got ${signal}`);
    return 0;
  };
}

describe('a daemon main as a supervised component', () => {
  function component(main: ComponentMain, signals: SignalScopes, name = 'tedge-mapper-c8y') {
    return mainComponent({ name, kind: 'mapper', load: () => main, argv: [name], env: {}, signals });
  }
  const ctx = () => {
    const calls: string[] = [];
    return { calls, ctx: { failed: (e: unknown) => calls.push(`failed: ${(e as Error).message}`), restartRequired: (r: string) => calls.push(`restart: ${r}`) } };
  };

  it('stops one daemon with a SIGTERM of its own, the others and the real process listeners untouched', async () => {
    const proc = fakeProcess();
    const signals = new SignalScopes();
    const undo = signals.install(proc);
    const log: string[] = [];
    let processGot = 0;
    proc.on('SIGTERM', () => processGot++);
    const a = await component(daemonMain(proc, log), signals, 'a').start(ctx().ctx);
    const b = await component(daemonMain(proc, log), signals, 'b').start(ctx().ctx);
    await settle();
    assert.equal(proc.listenerCount('SIGTERM'), 1, 'the mains listen in their scopes, not on the process');
    await a.stop();
    assert.deepEqual(log, ['main a', 'main b', 'a got SIGTERM']);
    assert.equal(processGot, 0);
    await b.stop();
    assert.deepEqual(log, ['main a', 'main b', 'a got SIGTERM', 'b got SIGTERM']);
    undo();
    proc.emit('SIGTERM');
    assert.equal(processGot, 1);
  });

  it('hands a stop requested before the main listens (still connecting) over when it does', async () => {
    const proc = fakeProcess();
    const signals = new SignalScopes();
    const undo = signals.install(proc);
    const log: string[] = [];
    const c = await component(daemonMain(proc, log, { connectMs: 20 }), signals).start(ctx().ctx);
    await c.stop();
    assert.deepEqual(log, ['main tedge-mapper-c8y', 'tedge-mapper-c8y got SIGTERM']);
    undo();
  });

  it('reports a main that ends by itself as a crash, and EXIT_RESTART_REQUIRED as a restart request', async () => {
    const proc = fakeProcess();
    const signals = new SignalScopes();
    const undo = signals.install(proc);
    const one = ctx();
    await component(daemonMain(proc, [], { exitCode: 1 }), signals).start(one.ctx);
    const two = ctx();
    await component(daemonMain(proc, [], { exitCode: EXIT_RESTART_REQUIRED }), signals).start(two.ctx);
    const three = ctx();
    await component(() => Promise.reject(new Error('config broken')), signals).start(three.ctx);
    await settle();
    assert.deepEqual(one.calls, ['failed: tedge-mapper-c8y exited with code 1']);
    assert.deepEqual(two.calls, ['restart: tedge-mapper-c8y exited asking for a restart']);
    assert.deepEqual(three.calls, ['failed: config broken']);
    undo();
  });
});
