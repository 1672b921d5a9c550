import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { AGENT_HEALTH, AgentUnderTest, cmd, json } from '../../helpers/agent-under-test';
import { BusProbe } from '../../helpers/bus-probe';
import type { Daemon } from '../../helpers/daemon';
import { ImageServer, SimulatedAbDevice } from '../../helpers/firmware-device';
import { REPO_ROOT } from '../../helpers/paths';

/** The workflow file the .deb installs as /etc/tedge/operations/firmware_update.toml. */
export const SHIPPED_FIRMWARE_WORKFLOW = join(REPO_ROOT, 'packaging', 'operations', 'firmware_update.toml');

export const FW = (id: string): string => cmd('firmware_update', id);
export const TWIN = 'te/device/main///twin/firmware';
export const IMAGE = Buffer.from(`firmware 2.0\n${'x'.repeat(256 * 1024)}\n`);
export const IMAGE_SHA = createHash('sha256').update(IMAGE).digest('hex');

const TERMINAL = (t: string): boolean => ['successful', 'failed'].includes(String(json(t)['status']));

/**
 * One simulated device for a firmware test: a real mosquitto, the real tedge-agent process with a
 * simulated A/B backend, an image server. `runToEnd` plays the device: whenever the agent exits (the
 * simulated reboot stops it, a fault kills it) it is started again, until the command is terminal.
 */
export class FirmwareRig {
  agent: Daemon | undefined;
  boots = 0;

  private constructor(
    private readonly host: AgentUnderTest,
    readonly device: SimulatedAbDevice,
    readonly server: ImageServer,
    readonly cloud: BusProbe,
  ) {}

  /**
   * `workflow`: the operations/firmware_update.toml of the device: the shipped file (the default), a
   * user's version of it, or none (the agent's built-in steps run without a file).
   */
  static async start(opts: { env?: Record<string, string>; stallFirst?: boolean; rebootTimeoutS?: number; image?: Buffer; workflow?: string | false } = {}): Promise<FirmwareRig> {
    const host = await AgentUnderTest.start('fw');
    const workflow = opts.workflow ?? readFileSync(SHIPPED_FIRMWARE_WORKFLOW, 'utf8');
    if (workflow !== false) host.workflow('firmware_update.toml', workflow);
    const device = new SimulatedAbDevice(host.path('device'), host.path('run'));
    writeFileSync(host.path('config', 'system.toml'), `[system]\nreboot = ${JSON.stringify([device.reboot])}\nreboot_timeout_seconds = ${opts.rebootTimeoutS ?? 30}\n`);
    const server = await ImageServer.start(opts.image ?? IMAGE, opts.stallFirst === true ? { stallFirst: true } : {});
    Object.assign(host.env, { TEDGE_FIRMWARE_BACKEND: device.backend, TEDGE_FIRMWARE_HEALTH_TIMEOUT: '10s', ...opts.env });
    const cloud = await host.probe(['te/device/main///cmd/firmware_update/+', 'te/device/main///cmd/firmware_update', TWIN]);
    return new FirmwareRig(host, device, server, cloud);
  }

  get dir(): string {
    return this.host.dir;
  }

  /** The agent's environment; a test may change it for the next boot. */
  get env(): Record<string, string> {
    return this.host.env;
  }

  /**
   * Starts the agent and waits until it reports up with its own pid. `allowExit`: an agent that exits
   * first (a fault killed it, it rebooted) is no error; the caller plays the next boot.
   */
  async startAgent(allowExit = false): Promise<Daemon> {
    const watcher = await BusProbe.connect(this.host.broker.port, [AGENT_HEALTH]);
    const daemon = this.host.spawnAgent();
    this.agent = daemon;
    this.boots++;
    const pid = daemon.process.pid;
    const exited = new Promise<'exited'>((resolve) => daemon.process.once('exit', () => resolve('exited')));
    try {
      const up = watcher.waitForText(AGENT_HEALTH, (t) => json(t)['status'] === 'up' && json(t)['pid'] === pid, 20_000);
      up.catch(() => undefined);
      const first = await Promise.race([up, exited]);
      if (first === 'exited' && !allowExit) throw new Error('the agent exited before it reported up');
    } catch (err) {
      throw new Error(`${String(err)}\nagent output:\n${daemon.output}`);
    } finally {
      await watcher.close();
    }
    return daemon;
  }

  request(id: string, payload: Record<string, unknown>): Promise<void> {
    return this.cloud.publish(FW(id), JSON.stringify({ status: 'init', name: 'os', version: '2.0', remoteUrl: this.server.url, ...payload }), { retain: true });
  }

  /** Restarts the agent each time it exits, until the command is terminal; returns its terminal payload. */
  async runToEnd(id: string, timeoutMs = 30_000, onAgentExit?: () => Promise<void> | void): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    const terminal = this.cloud.waitForText(FW(id), TERMINAL, timeoutMs).then((t) => json(t));
    // Raced against each boot below; a rejection is reported through the race, never left unhandled.
    terminal.catch(() => undefined);
    for (;;) {
      const agent = this.agent;
      const exited = agent === undefined || agent.exited ? Promise.resolve('exited' as const) : new Promise<'exited'>((resolve) => agent.process.once('exit', () => resolve('exited')));
      const first = await Promise.race([terminal, exited]).catch((err: unknown) => {
        throw new Error(`${String(err)}\nlast agent output:\n${agent?.output ?? ''}\ncalls: ${this.device.calls().join(' | ')}`);
      });
      if (first !== 'exited') return first;
      await onAgentExit?.();
      if (Date.now() > deadline) throw new Error(`command ${id} not terminal after ${this.boots} boots`);
      await this.startAgent(true);
    }
  }

  /** The command's log file. */
  log(id: string): string {
    try {
      return readFileSync(join(this.dir, 'logs', 'agent', `workflow-firmware_update-${id}.log`), 'utf8');
    } catch {
      return '';
    }
  }

  probe(filters: readonly string[]): Promise<BusProbe> {
    return this.host.probe(filters);
  }

  async stop(): Promise<void> {
    await this.host.close();
    await this.server.stop();
  }
}
