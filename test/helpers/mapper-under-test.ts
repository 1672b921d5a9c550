import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BusProbe } from './bus-probe';
import { Daemon } from './daemon';
import { Mosquitto } from './mosquitto';

/**
 * A mapper run as its own process against a fresh mosquitto, with a probe subscribed before it starts:
 * the setup every mapper integration test shares. Resolves once the mapper reports `up`.
 */
export class MapperUnderTest {
  private constructor(
    readonly broker: Mosquitto,
    readonly probe: BusProbe,
    readonly mapper: Daemon,
    readonly configDir: string,
    /** The environment the mapper runs with (config dir, broker port, plus the test's own keys). */
    readonly env: Record<string, string>,
  ) {}

  /**
   * `dirs`, `files`: directories and files made under the config dir before the mapper starts; `retained`:
   * messages on the broker before it starts (what an earlier run left), by topic.
   */
  static async start(
    cloud: string,
    opts: { filters: readonly string[]; env?: Record<string, string>; service?: string; brokerConfig?: string; dirs?: readonly string[]; files?: Readonly<Record<string, string>>; retained?: Readonly<Record<string, string>> },
  ): Promise<MapperUnderTest> {
    const broker = await Mosquitto.start(opts.brokerConfig !== undefined ? { extraConfig: opts.brokerConfig } : {});
    const configDir = mkdtempSync(join(tmpdir(), `tedge-mapper-${cloud}-it-`));
    for (const dir of opts.dirs ?? []) mkdirSync(join(configDir, dir), { recursive: true });
    for (const [file, text] of Object.entries(opts.files ?? {})) {
      mkdirSync(dirname(join(configDir, file)), { recursive: true });
      writeFileSync(join(configDir, file), text);
    }
    const env = { TEDGE_CONFIG_DIR: configDir, TEDGE_MQTT_CLIENT_PORT: String(broker.port), ...opts.env };
    const health = `te/device/main/service/${opts.service ?? `tedge-mapper-${cloud}`}/status/health`;
    const probe = await BusProbe.connect(broker.port, [...opts.filters, health]);
    for (const [topic, payload] of Object.entries(opts.retained ?? {})) await probe.publish(topic, payload, { retain: true });
    const mapper = Daemon.start('tedge-mapper', [cloud], env);
    await probe.waitForText(health, (t) => t.includes('"up"'));
    return new MapperUnderTest(broker, probe, mapper, configDir, env);
  }

  async stop(): Promise<void> {
    await this.mapper.stop();
    await this.probe.close();
    await this.broker.stop();
    rmSync(this.configDir, { recursive: true, force: true });
  }
}
