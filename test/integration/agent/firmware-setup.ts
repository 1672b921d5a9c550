import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BusProbe } from '../../helpers/bus-probe';
import { Daemon } from '../../helpers/daemon';
import { ImageServer, SimulatedAbDevice } from '../../helpers/firmware-device';
import { Mosquitto, freePort } from '../../helpers/mosquitto';
import { REPO_ROOT } from '../../helpers/paths';

/** The workflow file the .deb installs as /etc/tedge/operations/firmware_update.toml. */
export const SHIPPED_FIRMWARE_WORKFLOW = join(REPO_ROOT, 'packaging', 'operations', 'firmware_update.toml');

export const AGENT_HEALTH = 'te/device/main/service/tedge-agent/status/health';
export const FW = (id: string): string => `te/device/main///cmd/firmware_update/${id}`;
export const TWIN = 'te/device/main///twin/firmware';
export const IMAGE = Buffer.from(`firmware 2.0\n${'x'.repeat(256 * 1024)}\n`);
export const IMAGE_SHA = createHash('sha256').update(IMAGE).digest('hex');

export function json(text: string | undefined): Record<string, unknown> {
  try {
    return JSON.parse(text ?? '') as Record<string, unknown>;
  } catch {
    return {};
  }
}

const TERMINAL = (t: string): boolean => ['successful', 'failed'].includes(String(json(t)['status']));

/**
 * One simulated device for a firmware test: a real mosquitto, the real tedge-agent process with a
 * simulated A/B backend, an image server. `runToEnd` plays the device: whenever the agent exits (the
 * simulated reboot stops it, a fault kills it) it is started again, until the command is terminal.
 */
export class FirmwareRig {
  agent: Daemon | undefined;
  boots = 0;
  private readonly probes: BusProbe[] = [];

  private constructor(
    readonly broker: Mosquitto,
    readonly dir: string,
    readonly device: SimulatedAbDevice,
    readonly server: ImageServer,
    readonly env: Record<string, string>,
    readonly cloud: BusProbe,
  ) {}

  /**
   * `workflow`: the operations/firmware_update.toml of the device: the shipped file (the default), a
   * user's version of it, or none (the agent's built-in steps run without a file).
   */
  static async start(opts: { env?: Record<string, string>; stallFirst?: boolean; rebootTimeoutS?: number; image?: Buffer; workflow?: string | false } = {}): Promise<FirmwareRig> {
    const broker = await Mosquitto.start();
    const dir = mkdtempSync(join(tmpdir(), 'tedge-fw-'));
    mkdirSync(join(dir, 'config', 'operations'), { recursive: true });
    const workflow = opts.workflow ?? readFileSync(SHIPPED_FIRMWARE_WORKFLOW, 'utf8');
    if (workflow !== false) writeFileSync(join(dir, 'config', 'operations', 'firmware_update.toml'), workflow);
    const runDir = join(dir, 'run');
    mkdirSync(runDir);
    const device = new SimulatedAbDevice(join(dir, 'device'), runDir);
    writeFileSync(join(dir, 'config', 'system.toml'), `[system]\nreboot = ${JSON.stringify([device.reboot])}\nreboot_timeout_seconds = ${opts.rebootTimeoutS ?? 30}\n`);
    const server = await ImageServer.start(opts.image ?? IMAGE, opts.stallFirst === true ? { stallFirst: true } : {});
    const env: Record<string, string> = {
      TEDGE_CONFIG_DIR: join(dir, 'config'),
      TEDGE_MQTT_CLIENT_PORT: String(broker.port),
      TEDGE_AGENT_STATE_PATH: join(dir, 'state'),
      TEDGE_LOGS_PATH: join(dir, 'logs'),
      TEDGE_RUN_PATH: runDir,
      TEDGE_DATA_PATH: join(dir, 'data'),
      TEDGE_TMP_PATH: join(dir, 'tmp'),
      TEDGE_SUDO_ENABLE: 'false',
      TEDGE_HTTP_BIND_PORT: String(await freePort()),
      TEDGE_FIRMWARE_BACKEND: device.backend,
      TEDGE_FIRMWARE_HEALTH_TIMEOUT: '10s',
      ...opts.env,
    };
    const cloud = await BusProbe.connect(broker.port, ['te/device/main///cmd/firmware_update/+', 'te/device/main///cmd/firmware_update', TWIN]);
    const rig = new FirmwareRig(broker, dir, device, server, env, cloud);
    rig.probes.push(cloud);
    return rig;
  }

  /**
   * Starts the agent and waits until it reports up with its own pid. `allowExit`: an agent that exits
   * first (a fault killed it, it rebooted) is no error; the caller plays the next boot.
   */
  async startAgent(allowExit = false): Promise<Daemon> {
    const watcher = await BusProbe.connect(this.broker.port, [AGENT_HEALTH]);
    const daemon = Daemon.start('tedge-agent', [], this.env);
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

  async probe(filters: readonly string[]): Promise<BusProbe> {
    const p = await BusProbe.connect(this.broker.port, filters);
    this.probes.push(p);
    return p;
  }

  async stop(): Promise<void> {
    await this.agent?.stop('SIGKILL');
    await Promise.all(this.probes.splice(0).map((p) => p.close()));
    await this.server.stop();
    await this.broker.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Waits until `check` holds, polling. */
export async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
