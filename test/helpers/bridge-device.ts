import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BusProbe } from './bus-probe';
import { CloudSimulator, type CloudSimOptions } from './cloud-sim';
import { Daemon } from './daemon';
import { Mosquitto } from './mosquitto';

export const BRIDGE_HEALTH = 'te/device/main/service/tedge-mapper-bridge-c8y/status/health';
export const BRIDGE_METRICS = 'te/device/main/service/tedge-mapper-bridge-c8y/status/metrics/outbox';

export interface BridgeDeviceOptions {
  readonly deviceId?: string;
  /** TEDGE_* overrides, e.g. TEDGE_MQTT_BRIDGE_OUTBOX_MAX_BYTES. */
  readonly env?: Record<string, string>;
  /** Extra mosquitto.conf lines of the local broker. */
  readonly brokerConfig?: string;
  /** Topics the probe on the local broker records (besides the bridge's health and metrics). */
  readonly probeTopics?: readonly string[];
  /** No certificate issued by the simulator: the test creates one (e.g. `tedge cert create`). */
  readonly noCertificate?: boolean;
  /** Options of the simulated cloud (its broker's limits). */
  readonly sim?: CloudSimOptions;
}

/**
 * A device for bridge tests: a local mosquitto, a cloud simulator with a certificate issued for the
 * device, and `tedge-mapper c8y` (with its built-in bridge) as its own process. Fast reconnects
 * (200 ms initial back-off) so outages in tests take seconds, not minutes.
 */
export class BridgeDevice {
  mapper: Daemon | undefined;

  private constructor(
    readonly deviceId: string,
    readonly sim: CloudSimulator,
    readonly broker: Mosquitto,
    readonly probe: BusProbe,
    readonly configDir: string,
    readonly env: Record<string, string>,
  ) {}

  static async start(opts: BridgeDeviceOptions = {}): Promise<BridgeDevice> {
    const deviceId = opts.deviceId ?? `bridge-it-${process.pid}`;
    const sim = await CloudSimulator.start(opts.sim);
    const broker = await Mosquitto.start(opts.brokerConfig !== undefined ? { extraConfig: opts.brokerConfig } : {});
    const configDir = mkdtempSync(join(tmpdir(), 'tedge-bridge-it-'));
    mkdirSync(join(configDir, 'device-certs'));
    if (!opts.noCertificate) sim.issueDeviceCertificate(deviceId, join(configDir, 'device-certs', 'tedge-certificate.pem'), join(configDir, 'device-certs', 'tedge-private-key.pem'));
    const env = {
      TEDGE_CONFIG_DIR: configDir,
      TEDGE_MQTT_CLIENT_PORT: String(broker.port),
      TEDGE_DATA_PATH: join(configDir, 'data'),
      TEDGE_MQTT_BRIDGE_RECONNECT_POLICY_INITIAL_INTERVAL: '200ms',
      TEDGE_MQTT_BRIDGE_RECONNECT_POLICY_MAXIMUM_INTERVAL: '1s',
      ...sim.deviceEnv(),
      ...opts.env,
    };
    const probe = await BusProbe.connect(broker.port, [BRIDGE_HEALTH, BRIDGE_METRICS, ...(opts.probeTopics ?? [])]);
    return new BridgeDevice(deviceId, sim, broker, probe, configDir, env);
  }

  startMapper(): Daemon {
    this.mapper = Daemon.start('tedge-mapper', ['c8y'], this.env);
    return this.mapper;
  }

  /** Resolves when the bridge reports `up` with a pid of the running mapper. */
  async bridgeUp(timeoutMs = 20_000): Promise<void> {
    const pid = this.mapper?.process.pid;
    await this.probe.waitForText(BRIDGE_HEALTH, (t) => t.includes('"up"') && t.includes(`"pid":${pid}`), timeoutMs);
  }

  /** Health messages of the bridge, as statuses, in order. */
  healthStatuses(): string[] {
    return this.probe.texts(BRIDGE_HEALTH).map((t) => (JSON.parse(t) as { status: string }).status);
  }

  /** The latest outbox metrics the bridge published. */
  metrics(): Record<string, number | boolean> {
    const all = this.probe.texts(BRIDGE_METRICS);
    return all.length === 0 ? {} : (JSON.parse(all[all.length - 1] ?? '{}') as Record<string, number | boolean>);
  }

  /** Cumulocity measurements the simulator received whose fragment `seq` carries a number: those numbers, in arrival order. */
  receivedSeq(): number[] {
    const out: number[] = [];
    for (const m of this.sim.received) {
      if (m.topic !== 'measurement/measurements/create') continue;
      const json = JSON.parse(m.payload) as { seq?: { seq?: { value?: number } } };
      const v = json.seq?.seq?.value;
      if (typeof v === 'number') out.push(v);
    }
    return out;
  }

  async stop(): Promise<void> {
    if (this.mapper && !this.mapper.exited) await this.mapper.stop();
    await this.probe.close();
    await this.broker.stop();
    await this.sim.stop();
    rmSync(this.configDir, { recursive: true, force: true });
  }
}
