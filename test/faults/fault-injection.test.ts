import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { BRIDGE_HEALTH, BridgeDevice, type BridgeDeviceOptions } from '../helpers/bridge-device';
import { Daemon } from '../helpers/daemon';
import { TcpCutter } from '../helpers/tcp-cutter';
import { prng } from '../unit/native/support';
import { Sensor } from './sensor';

/**
 * The fault-injection suite: each way a day goes wrong, with a burst of numbered measurements under
 * way; what the local broker acknowledged to the sensor must all reach the cloud. Prints the figures.
 */

/** The queue bounds the package installs into mosquitto (packaging/config/tedge-mosquitto.conf), not the listener. */
const PACKAGED_QUEUE_CONFIG = readFileSync(join(__dirname, '..', '..', '..', 'packaging', 'config', 'tedge-mosquitto.conf'), 'utf8')
  .split('\n')
  .filter((l) => /^max_queued_/.test(l))
  .join('\n');

const MAPPER_HEALTH = 'te/device/main/service/tedge-mapper-c8y/status/health';
const figures: string[] = [];
after(() => {
  process.stdout.write(`\nfault-injection figures:\n${figures.map((f) => `  ${f}`).join('\n')}\n`);
});

// Seeded: the random points of a run are printed with the suite's name, so a failure can be replayed.
const SEED = Number(process.env['TEDGE_FAULT_SEED'] ?? Date.now() % 100_000);

async function rig(opts: BridgeDeviceOptions = {}): Promise<{ device: BridgeDevice; sensor: Sensor }> {
  const device = await BridgeDevice.start({ ...opts, brokerConfig: [PACKAGED_QUEUE_CONFIG, opts.brokerConfig ?? ''].join('\n') });
  device.startMapper();
  await device.bridgeUp();
  const sensor = await Sensor.connect(device.broker.port);
  return { device, sensor };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until every acknowledged measurement has reached the cloud, then checks it and records the figures. */
async function expectDelivered(t: TestContext, label: string, device: BridgeDevice, sensor: Sensor, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let distinct = new Set<number>();
  for (;;) {
    distinct = new Set(device.receivedSeq());
    if (sensor.acked.every((s) => distinct.has(s)) || Date.now() > deadline) break;
    await sleep(250);
  }
  await sleep(500); // late duplicates arrive too
  const got = device.receivedSeq();
  distinct = new Set(got);
  const missing = sensor.acked.filter((s) => !distinct.has(s));
  const line = `${label}: published ${sensor.published}, acknowledged ${sensor.acked.length}, arrived ${distinct.size} (+${got.length - distinct.size} duplicates), lost ${missing.length}`;
  figures.push(line);
  t.diagnostic(line);
  assert.deepEqual(missing.slice(0, 20), [], `${missing.length} acknowledged measurements never arrived`);
}

/** SIGTERM (or kill -9) and the time the process took to end. */
async function timedStop(d: Daemon, signal: NodeJS.Signals): Promise<number> {
  const started = Date.now();
  await d.stop(signal);
  return Date.now() - started;
}

describe(`fault injection (seed ${SEED})`, { timeout: 600_000 }, () => {
  const random = prng(SEED);

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`${signal} to the mapper at random points of a burst loses nothing acknowledged`, async (t) => {
      const { device, sensor } = await rig();
      try {
        const stops: number[] = [];
        const burst = sensor.burst(3000, { pauseEvery: 100, pauseMs: 10 });
        for (let round = 0; round < 3; round++) {
          const at = (round + 1) * 700 + Math.floor(random() * 400);
          while (sensor.acked.length < at && sensor.published < 3000) await sleep(5);
          const mapper = device.mapper;
          assert.ok(mapper);
          stops.push(await timedStop(mapper, signal));
          device.startMapper();
          await device.bridgeUp();
        }
        await burst;
        await expectDelivered(t, `${signal} ×3 mid-burst (stops took ${stops.join('/')} ms)`, device, sensor);
        if (signal === 'SIGTERM') for (const ms of stops) assert.ok(ms < 5000, `SIGTERM took ${ms} ms`);
      } finally {
        await sensor.close();
        await device.stop();
      }
    });
  }

  it('a persistent local broker restarted 20 times mid-burst: everything acknowledged arrives', async (t) => {
    const db = mkdtempSync(join(tmpdir(), 'tedge-fault-db-'));
    chmodSync(db, 0o777); // mosquitto started as root writes as user mosquitto
    const { device, sensor } = await rig({ brokerConfig: `persistence true\npersistence_location ${db}/\nautosave_interval 1` });
    try {
      const burst = sensor.burst(4000, { pauseEvery: 50, pauseMs: 5 });
      for (let i = 0; i < 20; i++) {
        await sleep(150 + Math.floor(random() * 250));
        await device.broker.restart();
      }
      await burst;
      await expectDelivered(t, 'persistent local broker restarted ×20 mid-burst', device, sensor, 90_000);
    } finally {
      await sensor.close();
      await device.stop();
      rmSync(db, { recursive: true, force: true });
    }
  });

  it('a local broker without persistence restarted mid-burst: delivery goes on after each restart', async (t) => {
    const { device, sensor } = await rig({ probeTopics: [MAPPER_HEALTH, 'c8y/measurement/measurements/create'], brokerConfig: process.env['FAULT_DEBUG'] ? 'log_type all' : '' });
    try {
      let lostInBroker = 0;
      for (let i = 0; i < 3; i++) {
        const burst = sensor.burst(500, { pauseEvery: 50, pauseMs: 5 });
        await sleep(100 + Math.floor(random() * 200));
        const healthBefore = device.probe.texts(MAPPER_HEALTH).length;
        const bridgeBefore = device.probe.texts(BRIDGE_HEALTH).length;
        await device.broker.restart(); // what it held for the sessions is gone with it: not ours to keep
        await burst;
        // The sessions are back: both daemons said `up` again (the broker's shutdown sent their `down` wills)
        // and had a moment to resubscribe (MQTT.js resubscribes after its queued publishes).
        const upAgain = (topic: string, before: number): boolean => device.probe.texts(topic).slice(before).some((h) => h.includes('"up"'));
        await device.probe.waitFor(() => upAgain(MAPPER_HEALTH, healthBefore) && upAgain(BRIDGE_HEALTH, bridgeBefore), 'the daemons back on the broker', 20_000);
        await sleep(500);
        const before = sensor.acked.length;
        await sensor.burst(200);
        const after = sensor.acked.slice(before);
        await device.sim.waitFor(() => after.every((s) => new Set(device.receivedSeq()).has(s)), 'what was published after the restart', 30_000).catch(() => {});
        const got = new Set(device.receivedSeq());
        assert.deepEqual(after.filter((s) => !got.has(s)), [], `measurements published after restart ${i + 1} arrive; local c8y outputs ${device.probe.texts('c8y/measurement/measurements/create').length}, health ${device.probe.texts(MAPPER_HEALTH).join(' ')} bridge ${device.probe.texts(BRIDGE_HEALTH).join(' ')}; metrics ${JSON.stringify(device.metrics())}\n${device.mapper?.output.slice(-3000)}${process.env['FAULT_DEBUG'] ? readFileSync(device.broker.logPath, 'utf8').split('\n').filter((l) => /bridge|tedge-mapper-c8y|New conn|Sending CONNACK/.test(l) && !/PUBLISH|PUBACK/.test(l)).slice(-60).join('\n') : ''}`);
        lostInBroker = sensor.acked.filter((s) => !got.has(s)).length;
      }
      const line = `local broker without persistence restarted ×3: ${lostInBroker} of ${sensor.acked.length} acknowledged were lost inside the broker (its queues die with it); everything published after each restart arrived`;
      figures.push(line);
      t.diagnostic(line);
    } finally {
      await sensor.close();
      await device.stop();
    }
  });

  it('a cloud refusing packets over 16 KiB: the refused record is moved aside and the queue goes on', async (t) => {
    // The mapper's limit set above the cloud's, so the oversized record does reach the outbox.
    const { device, sensor } = await rig({ sim: { brokerConfig: 'max_packet_size 16384' }, env: { TEDGE_C8Y_MAPPER_MQTT_MAX_PAYLOAD_SIZE: '65536' }, probeTopics: ['te/errors'] });
    try {
      await sensor.burst(200);
      await device.probe.publish('c8y/s/us', `302,c8y_Big,${'x'.repeat(20_000)}`);
      await sensor.burst(800);
      await expectDelivered(t, 'cloud refusing packets over 16 KiB, one 20 kB record among 1,000', device, sensor, 90_000);
      const error = await device.probe.waitForText('te/errors', (e) => e.includes('was refused by the cloud'), 30_000);
      const dead = readFileSync(join(device.configDir, 'data', 'bridge', 'c8y', 'dead-letter.jsonl'), 'utf8').trim().split('\n');
      assert.equal(dead.length, 1);
      await device.probe.waitFor(() => device.metrics()['refused_messages'] === 1, 'refused_messages in the metrics', 20_000);
      t.diagnostic(error);
    } finally {
      await sensor.close();
      await device.stop();
    }
  });

  it('a cloud that drops every connection after 1 s: everything acknowledged arrives', async (t) => {
    const device0 = await BridgeDevice.start({ brokerConfig: PACKAGED_QUEUE_CONFIG });
    const [host, port] = device0.sim.mqttEndpoint.split(':');
    const cutter = await TcpCutter.start({ host: host ?? '127.0.0.1', port: Number(port) }, 1000);
    Object.assign(device0.env, { TEDGE_C8Y_MQTT: cutter.endpoint, TEDGE_MQTT_BRIDGE_RECONNECT_POLICY_MAXIMUM_INTERVAL: '200ms' });
    device0.startMapper();
    await device0.bridgeUp();
    const sensor = await Sensor.connect(device0.broker.port);
    try {
      await sensor.burst(3000, { pauseEvery: 50, pauseMs: 80 });
      await expectDelivered(t, `cloud dropping every connection after 1 s (${cutter.connections} connections)`, device0, sensor, 90_000);
      assert.ok(cutter.connections >= 3, 'the connection was cut several times');
    } finally {
      await sensor.close();
      await device0.stop();
      await cutter.stop();
    }
  });

  it('a full disk under data.path: nothing is acknowledged that is not stored, and all of it goes out once there is room', async (t) => {
    const dataPath = mkdtempSync(join(tmpdir(), 'tedge-fault-disk-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dataPath], { stdio: 'ignore' });
    } catch {
      rmSync(dataPath, { recursive: true, force: true });
      t.skip('this machine refuses a tmpfs mount (needs root): the full-disk case is not run');
      return;
    }
    const { device, sensor } = await rig({ env: { TEDGE_DATA_PATH: dataPath } });
    try {
      await device.sim.broker.stop(); // the cloud is away: the outbox has to hold everything
      // Leave about 64 KiB: a few hundred records fit, the rest of the burst does not.
      const filler = join(dataPath, 'filler');
      const free = (): number => Number(execFileSync('df', ['--output=avail', '-B1', dataPath]).toString().split('\n')[1]);
      writeFileSync(filler, Buffer.alloc(Math.max(0, free() - 64 * 1024)));
      await sensor.burst(3000);
      await device.probe.waitFor(() => Number(device.metrics()['write_errors'] ?? 0) > 0, 'the outbox meeting the full disk', 20_000);
      const stored = device.metrics()['stored_messages'];
      rmSync(filler);
      await device.sim.broker.start();
      await expectDelivered(t, `full disk under data.path (outbox writes refused ${device.metrics()['write_errors']} times; ${stored} stored before the disk filled)`, device, sensor, 90_000);
    } finally {
      await sensor.close();
      await device.stop();
      execFileSync('umount', [dataPath]);
      rmSync(dataPath, { recursive: true, force: true });
    }
  });

  it('a corrupted outbox: the damaged record is counted and skipped, every other one is delivered', async (t) => {
    const { device, sensor } = await rig();
    try {
      await device.sim.broker.stop();
      await sensor.burst(500);
      await device.probe.waitFor(() => Number(device.metrics()['stored_messages']) >= 500, 'the burst in the outbox', 30_000);
      await (device.mapper as Daemon).stop('SIGTERM');
      const dir = join(device.configDir, 'data', 'bridge', 'c8y', 'outbox');
      const segment = readdirSync(dir).filter((f) => f.endsWith('.seg')).sort()[0];
      assert.ok(segment, 'a segment on disk');
      const path = join(dir, segment);
      const bytes = readFileSync(path);
      const middle = Math.floor(bytes.length / 2);
      bytes.writeUInt8(bytes.readUInt8(middle) ^ 0xff, middle); // one flipped byte in the middle of the file
      writeFileSync(path, bytes);
      await device.sim.broker.start();
      device.startMapper();
      await device.bridgeUp();
      const deadline = Date.now() + 60_000;
      const arrived = (): Set<number> => new Set(device.receivedSeq());
      while (arrived().size < sensor.acked.length - 1 && Date.now() < deadline) await sleep(250);
      await device.probe.waitFor(() => Number(device.metrics()['corrupt_records'] ?? 0) > 0, 'the corrupt record counted', 20_000);
      const missing = sensor.acked.filter((s) => !arrived().has(s));
      const line = `corrupted outbox (one byte flipped): acknowledged ${sensor.acked.length}, arrived ${arrived().size}, corrupt records counted ${device.metrics()['corrupt_records']}, missing ${missing.length}`;
      figures.push(line);
      t.diagnostic(line);
      assert.equal(missing.length, Number(device.metrics()['corrupt_records']), 'only the damaged record is missing, and it is counted');
    } finally {
      await sensor.close();
      await device.stop();
    }
  });

  it('SIGTERM returns within 5 s with the local broker down, and during a TLS handshake that never completes', async (t) => {
    const blackhole = await TcpCutter.start('blackhole');
    const device = await BridgeDevice.start({ env: {} });
    try {
      device.startMapper();
      await device.bridgeUp();
      await device.broker.kill();
      await sleep(300);
      const brokerDown = await timedStop(device.mapper as Daemon, 'SIGTERM');
      await device.broker.startAgain();
      Object.assign(device.env, { TEDGE_C8Y_MQTT: blackhole.endpoint });
      const mapper = device.startMapper();
      await device.probe.waitForText(BRIDGE_HEALTH, (h) => h.includes(`"pid":${mapper.process.pid}`), 20_000);
      while (blackhole.connections === 0) await sleep(50);
      const handshake = await timedStop(mapper, 'SIGTERM');
      // Before the local broker is ever reached: the wait for it ends too.
      await device.broker.kill();
      const waiting = device.startMapper();
      await sleep(1000);
      const beforeBroker = await timedStop(waiting, 'SIGTERM');
      const line = `SIGTERM to tedge-mapper c8y: ${brokerDown} ms with the local broker down, ${handshake} ms during a cloud TLS handshake that never completes, ${beforeBroker} ms while waiting for the broker at start`;
      figures.push(line);
      t.diagnostic(line);
      for (const ms of [brokerDown, handshake, beforeBroker]) assert.ok(ms < 5000, line);
      assert.equal(waiting.process.exitCode, 0, 'a stop is not a failure');
    } finally {
      await device.broker.startAgain().catch(() => {});
      await device.stop();
      await blackhole.stop();
    }
  });
});
