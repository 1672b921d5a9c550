import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentEnv } from './agent-env';
import { BusProbe } from './bus-probe';
import { Daemon } from './daemon';
import { Mosquitto } from './mosquitto';

export const AGENT_HEALTH = 'te/device/main/service/tedge-agent/status/health';
export const cmd = (op: string, id: string, device = 'main'): string => `te/device/${device}///cmd/${op}/${id}`;

/** A payload as an object; `{}` for anything that is not JSON (a cleared retained message, say). */
export function json(text: string | undefined): Record<string, unknown> {
  try {
    return JSON.parse(text ?? '') as Record<string, unknown>;
  } catch {
    return {};
  }
}

const terminal = (text: string): boolean => ['successful', 'failed'].includes(String(json(text)['status']));

/**
 * A device in a temp dir with the real tedge-agent as a process on a fresh mosquitto: the setup every agent
 * integration test shares. The layout under `dir`: config/ (with operations/ and sm-plugins/), state, logs,
 * tmp, data, run, and bin/ for the test's own scripts. Everything it starts, `close()` stops.
 */
export class AgentUnderTest {
  /** The agent started last. */
  agent: Daemon | undefined;
  private readonly probes: BusProbe[] = [];
  private readonly daemons: Daemon[] = [];

  private constructor(
    readonly broker: Mosquitto,
    readonly dir: string,
    /** The agent's environment (paths under `dir`, the broker's port, a free HTTP port); a test may add to it. */
    readonly env: Record<string, string>,
  ) {}

  /** `name` tags the temp dir, to tell a left-over one by its test. */
  static async start(name = 'agent'): Promise<AgentUnderTest> {
    const broker = await Mosquitto.start();
    const dir = mkdtempSync(join(tmpdir(), `tedge-${name}-it-`));
    for (const d of ['config/operations', 'config/sm-plugins', 'state', 'logs', 'tmp', 'data', 'run', 'bin']) mkdirSync(join(dir, d), { recursive: true });
    return new AgentUnderTest(broker, dir, await agentEnv(dir, broker.port));
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** `<config>/operations/<name>`. */
  workflow(name: string, text: string): string {
    const file = this.path('config', 'operations', name);
    writeFileSync(file, text);
    return file;
  }

  /** An executable shell script under bin/ (the test's own, run by the agent through argv, not a shell line). */
  script(name: string, body: string): string {
    return this.executable(this.path('bin', name), `#!/bin/sh\n${body}\n`);
  }

  /** Writes `text` to `file` as an executable (an sm-plugin, a reboot command). */
  executable(file: string, text: string): string {
    writeFileSync(file, text);
    chmodSync(file, 0o755);
    return file;
  }

  async probe(filters: readonly string[]): Promise<BusProbe> {
    const p = await BusProbe.connect(this.broker.port, filters);
    this.probes.push(p);
    return p;
  }

  /** Starts an agent without waiting for it (one the test expects to die early). `env` goes over `this.env`. */
  spawnAgent(opts: { args?: readonly string[]; env?: Record<string, string> } = {}): Daemon {
    const daemon = Daemon.start('tedge-agent', opts.args ?? [], { ...this.env, ...opts.env });
    this.agent = daemon;
    this.daemons.push(daemon);
    return daemon;
  }

  /** Starts an agent and waits until `health` says it is up with its own pid (it has restored its commands by then). */
  async startAgent(opts: { args?: readonly string[]; env?: Record<string, string>; health?: string } = {}): Promise<Daemon> {
    const health = opts.health ?? AGENT_HEALTH;
    const watcher = await this.probe([health]);
    const daemon = this.spawnAgent(opts);
    const pid = daemon.process.pid;
    await watcher.waitForText(health, (t) => json(t)['status'] === 'up' && json(t)['pid'] === pid, 20_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\nagent output:\n${daemon.output}`);
    });
    return daemon;
  }

  /** Publishes a request retained, as a mapper does, and waits for a terminal state. `device`: a child's name. */
  async runCommand(p: BusProbe, op: string, id: string, payload: Record<string, unknown>, timeoutMs = 15_000, device = 'main'): Promise<Record<string, unknown>> {
    await p.publish(cmd(op, id, device), JSON.stringify(payload), { retain: true });
    return this.awaitCommand(p, op, id, timeoutMs, device);
  }

  /** Waits for a terminal state of a command already requested; fails with its states and the agents' output. */
  async awaitCommand(p: BusProbe, op: string, id: string, timeoutMs = 15_000, device = 'main'): Promise<Record<string, unknown>> {
    const topic = cmd(op, id, device);
    const text = await p.waitForText(topic, terminal, timeoutMs).catch((err: unknown) => {
      throw new Error(`${String(err)}\nstates: ${p.texts(topic).join('\n')}\nagent output:\n${this.output()}`);
    });
    return json(text);
  }

  /** The statuses published on a command topic, in order (the request's included). */
  statuses(p: BusProbe, op: string, id: string): string[] {
    return p.texts(cmd(op, id)).filter((t) => t !== '').map((t) => String(json(t)['status']));
  }

  /** What every agent started so far printed, for a failure message. */
  output(): string {
    return this.daemons.map((d) => d.output).join('\n----\n');
  }

  /** Kills every agent started so far (to start afresh within one test). */
  async stopAgents(): Promise<void> {
    await Promise.all(this.daemons.splice(0).map((d) => d.stop('SIGKILL')));
  }

  /** Disconnects every probe (before a broker restart, say). */
  async closeProbes(): Promise<void> {
    await Promise.all(this.probes.splice(0).map((p) => p.close()));
  }

  async close(): Promise<void> {
    await this.stopAgents();
    await this.closeProbes();
    await this.broker.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls `check` (a file appearing, say: nothing on the bus to wait for) until it holds. */
export async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
