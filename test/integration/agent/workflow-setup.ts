import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BusProbe } from '../../helpers/bus-probe';
import { Daemon } from '../../helpers/daemon';
import { Mosquitto } from '../../helpers/mosquitto';
import { agentEnv } from '../../helpers/agent-env';

export const HEALTH = 'te/device/main/service/tedge-agent/status/health';
export const cmd = (op: string, id: string): string => `te/device/main///cmd/${op}/${id}`;

export function json(text: string | undefined): Record<string, unknown> {
  try {
    return JSON.parse(text ?? '') as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** A device in a temp dir for workflow tests: mosquitto, `<config>/operations/`, scripts, the agent as a process. */
export class WorkflowDevice {
  agent: Daemon | undefined;
  private readonly probes: BusProbe[] = [];
  private readonly daemons: Daemon[] = [];

  private constructor(
    readonly broker: Mosquitto,
    readonly dir: string,
    readonly env: Record<string, string>,
  ) {}

  static async start(): Promise<WorkflowDevice> {
    const broker = await Mosquitto.start();
    const dir = mkdtempSync(join(tmpdir(), 'tedge-workflow-it-'));
    for (const d of ['config/operations', 'config/sm-plugins', 'state', 'logs', 'tmp', 'data', 'run', 'bin']) mkdirSync(join(dir, d), { recursive: true });
    const env: Record<string, string> = await agentEnv(dir, broker.port);
    return new WorkflowDevice(broker, dir, env);
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
    const file = this.path('bin', name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
    return file;
  }

  async probe(filters: readonly string[]): Promise<BusProbe> {
    const p = await BusProbe.connect(this.broker.port, filters);
    this.probes.push(p);
    return p;
  }

  /** Starts the agent and waits until it is up with its own pid (it has restored its commands by then). */
  async startAgent(): Promise<Daemon> {
    const watcher = await this.probe([HEALTH]);
    const daemon = Daemon.start('tedge-agent', [], this.env);
    this.agent = daemon;
    this.daemons.push(daemon);
    const pid = daemon.process.pid;
    await watcher.waitForText(HEALTH, (t) => json(t)['status'] === 'up' && json(t)['pid'] === pid, 20_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\nagent output:\n${daemon.output}`);
    });
    return daemon;
  }

  /** Publishes a request retained, as a mapper does, and waits for a terminal state. */
  async runCommand(p: BusProbe, op: string, id: string, payload: Record<string, unknown>, timeoutMs = 15_000): Promise<Record<string, unknown>> {
    await p.publish(cmd(op, id), JSON.stringify(payload), { retain: true });
    const text = await p.waitForText(cmd(op, id), (t) => ['successful', 'failed'].includes(String(json(t)['status'])), timeoutMs).catch((err: unknown) => {
      throw new Error(`${String(err)}\nstates: ${p.texts(cmd(op, id)).join('\n')}\nagent output:\n${this.agent?.output ?? ''}`);
    });
    return json(text);
  }

  /** The statuses published on a command topic, in order (the request's included). */
  statuses(p: BusProbe, op: string, id: string): string[] {
    return p.texts(cmd(op, id)).filter((t) => t !== '').map((t) => String(json(t)['status']));
  }

  async close(): Promise<void> {
    await Promise.all(this.daemons.splice(0).map((d) => d.stop('SIGKILL')));
    await Promise.all(this.probes.splice(0).map((p) => p.close()));
    await this.broker.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls `check` (a file appearing, say: nothing on the bus to wait for) until it holds. */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
