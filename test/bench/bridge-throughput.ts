import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MqttBus } from '../../src/bus/mqtt-bus';
import { message } from '../../src/core/message';
import { BusProbe } from '../helpers/bus-probe';
import { CloudSimulator } from '../helpers/cloud-sim';
import { Daemon } from '../helpers/daemon';
import { Mosquitto } from '../helpers/mosquitto';

/**
 * Messages/s from `te/…` on the local broker to the simulated Cumulocity:
 *   built-in        tedge-mapper c8y + its built-in bridge (durable outbox, fsync=always)
 *   built-in/nosync the same with mqtt.bridge.outbox.fsync=never
 *   mosquitto       tedge-mapper c8y + mosquitto's own bridge (thin-edge's c8y-bridge.conf topics), same TLS
 *   mosquitto-raw   mosquitto's bridge alone forwarding te/# unconverted: the ceiling of the machine
 * The ratio that matters is built-in / mosquitto (target ≥ 0.5): the same mapper, only the bridge differs.
 *
 *   npm run bench:bridge            BENCH_MESSAGES=20000 BENCH_RUNS=3 by default
 */
const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 20_000);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const WARMUP = 1000;
const VERBOSE = process.env['BENCH_VERBOSE'] !== undefined;
const t0 = Date.now();
/** Progress on stderr with BENCH_VERBOSE set: where the time goes, and where a run is stuck. */
function step(what: string): void {
  if (VERBOSE) process.stderr.write(`  [${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}\n`);
}
const VARIANTS = (process.env['BENCH_VARIANTS'] ?? 'built-in,built-in/nosync,mosquitto,mosquitto-raw').split(',') as Variant[];
const DEVICE = 'bench-device';

type Variant = 'built-in' | 'built-in/nosync' | 'mosquitto' | 'mosquitto-raw';

/** The topics of thin-edge's /etc/tedge/mosquitto-conf/c8y-bridge.conf (§2.2), as mosquitto bridge lines. */
function c8yBridgeConf(sim: CloudSimulator, dir: string): string {
  const out = ['s/us/#', 't/us/#', 'q/us/#', 'c/us/#', 's/ut/#', 'inventory/managedObjects/update/#', 'measurement/measurements/create', 'measurement/measurements/createBulk', 'event/events/create', 'event/events/createBulk', 'alarm/alarms/create', 'alarm/alarms/createBulk'];
  const inb = ['s/ds', 's/dt', 'devicecontrol/notifications', 'error', 's/dc/#'];
  return [
    'connection edge_to_c8y',
    `address ${sim.mqttEndpoint}`,
    `bridge_cafile ${sim.caPath}`,
    `bridge_certfile ${join(dir, 'cert.pem')}`,
    `bridge_keyfile ${join(dir, 'key.pem')}`,
    `remote_clientid ${DEVICE}`,
    'local_clientid Cumulocity',
    'bridge_protocol_version mqttv311',
    'try_private false',
    'start_type automatic',
    'cleansession true',
    'local_cleansession false',
    'notifications true',
    'notifications_local_only true',
    'notification_topic te/device/main/service/mosquitto-c8y-bridge/status/health',
    'bridge_attempt_unsubscribe false',
    'keepalive_interval 60',
    ...out.map((t) => `topic ${t} out 1 c8y/ ""`),
    ...inb.map((t) => `topic ${t} in 1 c8y/ ""`),
    'topic s/uat out 0 c8y/ ""',
    'topic s/dat in 0 c8y/ ""',
  ].join('\n');
}

function rawBridgeConf(sim: CloudSimulator, dir: string): string {
  return [
    'connection edge_to_sim',
    `address ${sim.mqttEndpoint}`,
    `bridge_cafile ${sim.caPath}`,
    `bridge_certfile ${join(dir, 'cert.pem')}`,
    `bridge_keyfile ${join(dir, 'key.pem')}`,
    `remote_clientid ${DEVICE}`,
    'bridge_protocol_version mqttv311',
    'try_private false',
    'cleansession true',
    'local_cleansession false',
    'notifications true',
    'notifications_local_only true',
    'notification_topic te/device/main/service/mosquitto-c8y-bridge/status/health',
    'topic te/# out 1',
  ].join('\n');
}

/** Waits for `target` messages; gives up when none arrived for `stallMs` (reported, not hidden). */
async function waitForCount(count: () => number, target: number, stallMs: number): Promise<boolean> {
  let last = count();
  let lastChange = Date.now();
  while (count() < target) {
    if (count() !== last) {
      last = count();
      lastChange = Date.now();
    } else if (Date.now() - lastChange > stallMs) {
      return false;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

/** One setup (brokers, simulator, mapper), measured RUNS times after a warm-up. */
async function measure(variant: Variant): Promise<number[]> {
  step(`${variant}: starting`);
  const sim = await CloudSimulator.start({ record: false });
  const dir = mkdtempSync(join(tmpdir(), 'tedge-bench-'));
  chmodSync(dir, 0o755); // mosquitto (started as root) reads the bridge certificate as user mosquitto
  mkdirSync(join(dir, 'device-certs'));
  sim.issueDeviceCertificate(DEVICE, join(dir, 'cert.pem'), join(dir, 'key.pem'));
  chmodSync(join(dir, 'key.pem'), 0o644);
  sim.issueDeviceCertificate(DEVICE, join(dir, 'device-certs', 'tedge-certificate.pem'), join(dir, 'device-certs', 'tedge-private-key.pem'));
  const bridgeConf = variant === 'mosquitto' ? c8yBridgeConf(sim, dir) : variant === 'mosquitto-raw' ? rawBridgeConf(sim, dir) : '';
  // No broker-side cap on queued messages: a burst must not be dropped by the local broker in any variant.
  const broker = await Mosquitto.start({ extraConfig: `max_queued_messages 0\n${bridgeConf}` });
  const target = variant === 'mosquitto-raw' ? 'te/device/main///m/bench' : 'measurement/measurements/create';
  let count = 0;
  sim.onDeviceMessage((m) => {
    if (m.topic === target) count++;
  });
  const probe = await BusProbe.connect(broker.port, ['te/device/main/service/+/status/health']);
  let mapper: Daemon | undefined;
  if (variant !== 'mosquitto-raw') {
    mapper = Daemon.start('tedge-mapper', ['c8y'], {
      TEDGE_CONFIG_DIR: dir,
      TEDGE_MQTT_CLIENT_PORT: String(broker.port),
      TEDGE_DATA_PATH: join(dir, 'data'),
      TEDGE_MQTT_BRIDGE_BUILT_IN: String(variant.startsWith('built-in')),
      TEDGE_MQTT_BRIDGE_OUTBOX_FSYNC: variant === 'built-in/nosync' ? 'never' : 'always',
      ...sim.deviceEnv(),
    });
  }
  const bridgeHealth = variant.startsWith('built-in') ? 'te/device/main/service/tedge-mapper-bridge-c8y/status/health' : 'te/device/main/service/mosquitto-c8y-bridge/status/health';
  await probe.waitForText(bridgeHealth, (t) => t === '1' || t.includes('"up"'), 30_000);
  if (mapper) await probe.waitForText('te/device/main/service/tedge-mapper-c8y/status/health', (t) => t.includes('"up"'), 30_000);

  step(`${variant}: connected`);
  const publisher = await MqttBus.connect({ host: '127.0.0.1', port: broker.port, clientId: 'bench-publisher', cleanSession: true, connectTimeoutMs: 5000 });
  const burst = async (n: number): Promise<number> => {
    const start = count;
    const t0 = process.hrtime.bigint();
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < n; i++) {
      sends.push(publisher.publish(message('te/device/main///m/bench', `{"temperature":${20 + (i % 10)},"humidity":${i % 100},"time":"2026-01-01T00:00:00Z"}`, { qos: 1 })));
      // Let the socket drain now and then, as a busy publisher would; a single 20k-message write is not a workload.
      if (i % 500 === 499) await Promise.all(sends.splice(0));
    }
    await Promise.all(sends);
    if (!(await waitForCount(() => count - start, n, 20_000))) {
      process.stdout.write(`  ${variant}: stalled, ${count - start} of ${n} arrived and nothing more for 20 s; run not counted\n`);
      return Number.NaN;
    }
    return n / (Number(process.hrtime.bigint() - t0) / 1e9);
  };
  try {
    // A stalled warm-up means a broken setup: measure anyway, each run reports itself.
    await burst(WARMUP);
    step(`${variant}: warm`);
    const rates: number[] = [];
    for (let r = 0; r < RUNS; r++) rates.push(await burst(MESSAGES));
    return rates;
  } finally {
    step(`${variant}: stopping`);
    await publisher.close();
    if (mapper) await mapper.stop();
    step(`${variant}: mapper stopped`);
    await probe.close();
    await broker.stop();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
    step(`${variant}: stopped`);
  }
}

function median(xs: readonly number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function main(): Promise<void> {
  process.stdout.write(`bridge throughput: ${MESSAGES} messages × ${RUNS} runs per variant (median), te/… → simulated Cumulocity over mTLS\n`);
  const results = new Map<Variant, number>();
  for (const v of VARIANTS) {
    let rates = await measure(v);
    // A setup where nothing got through (seen with mosquitto's bridge under load) is set up again, once.
    if (rates.every((r) => Number.isNaN(r))) rates = await measure(v);
    results.set(v, median(rates));
    process.stdout.write(`  ${v.padEnd(16)} ${median(rates).toFixed(0).padStart(7)} msg/s   (runs: ${rates.map((r) => r.toFixed(0)).join(', ')})\n`);
  }
  const ratio = (results.get('built-in') ?? 0) / (results.get('mosquitto') ?? 1);
  process.stdout.write(`  ratio built-in / mosquitto bridge (same mapper): ${ratio.toFixed(2)}  (target ≥ 0.5)\n`);
  const raw = results.get('mosquitto-raw');
  if (raw !== undefined) process.stdout.write(`  ratio built-in / bare mosquitto bridge (no mapper): ${((results.get('built-in') ?? 0) / raw).toFixed(2)}\n`);
}

// Compiled under dist/test/, which `node --test dist/test/` walks: the benchmark runs only when started on purpose.
if (require.main === module && process.env['NODE_TEST_CONTEXT'] === undefined) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
