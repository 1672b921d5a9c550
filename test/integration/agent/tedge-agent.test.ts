import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Message } from '../../../src/core/message';
import { BusProbe } from '../../helpers/bus-probe';
import { Daemon, runCli } from '../../helpers/daemon';
import { Mosquitto } from '../../helpers/mosquitto';

const HEALTH = 'te/device/main/service/tedge-agent/status/health';
const CHILD = 'te/device/child1//';
const APP = 'te/device/child1/service/app';

function status(text: string): { status?: string; pid?: number } {
  try {
    return JSON.parse(text) as { status?: string; pid?: number };
  } catch {
    return {};
  }
}

function has(received: readonly Message[], topic: string): boolean {
  return received.some((m) => m.topic === topic && m.payload.length > 0);
}

describe('tedge-agent (process, real mosquitto)', () => {
  let broker: Mosquitto;
  let dir: string;
  let env: Record<string, string>;
  let agent: Daemon | undefined;
  const probes: BusProbe[] = [];

  async function probe(filters: readonly string[]): Promise<BusProbe> {
    const p = await BusProbe.connect(broker.port, filters);
    probes.push(p);
    return p;
  }

  /** Starts the agent and waits until it reports `up` with its own pid. */
  async function startAgent(): Promise<Daemon> {
    const watcher = await probe([HEALTH]);
    const daemon = Daemon.start('tedge-agent', [], env);
    agent = daemon;
    const pid = daemon.process.pid;
    await watcher.waitForText(HEALTH, (t) => status(t).status === 'up' && status(t).pid === pid, 15_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\nagent output:\n${daemon.output}`);
    });
    return daemon;
  }

  beforeEach(async () => {
    broker = await Mosquitto.start();
    dir = mkdtempSync(join(tmpdir(), 'tedge-agent-it-'));
    mkdirSync(join(dir, 'config'));
    env = {
      TEDGE_CONFIG_DIR: join(dir, 'config'),
      TEDGE_MQTT_CLIENT_PORT: String(broker.port),
      TEDGE_AGENT_STATE_PATH: join(dir, 'state'),
    };
  });

  afterEach(async () => {
    await agent?.stop('SIGKILL');
    agent = undefined;
    await Promise.all(probes.splice(0).map((p) => p.close()));
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports `up` retained with its pid, and answers a health check on its device', async () => {
    const daemon = await startAgent();
    const late = await probe([HEALTH]);
    await late.waitFor((r) => r.some((m) => m.topic === HEALTH && m.retain === true), 'the retained health status');
    assert.equal(status(late.texts(HEALTH)[0] ?? '').pid, daemon.process.pid);

    const before = late.texts(HEALTH).length;
    await late.publish('te/device/main///cmd/health/check', '{}');
    await late.waitFor(() => late.texts(HEALTH).length > before, 'a health status after the check');
    assert.equal(status(late.texts(HEALTH).at(-1) ?? '').status, 'up');
  });

  it('is reported `down` by the broker (last will) when killed with SIGKILL', async () => {
    const daemon = await startAgent();
    const pid = daemon.process.pid;
    const watcher = await probe([HEALTH]);
    await daemon.stop('SIGKILL');
    const down = await watcher.waitForText(HEALTH, (t) => status(t).status === 'down');
    assert.equal(status(down).pid, pid);
  });

  it('auto-registers the device and service of a first measurement, retained', async () => {
    await startAgent();
    const sensor = await probe([]);
    await sensor.publish('te/device/child1/service/app/m/temp', '{"temperature":21.5}');
    const watcher = await probe(['te/+/+/+/+']);
    await watcher.waitFor((r) => has(r, CHILD) && has(r, APP), 'both registrations');
    // A newcomer gets them as retained messages.
    const late = await probe([CHILD, APP]);
    await late.waitFor((r) => has(r, CHILD) && has(r, APP), 'both retained registrations');
    assert.deepEqual(JSON.parse(late.texts(CHILD)[0] ?? ''), { '@type': 'child-device', '@parent': 'device/main//', name: 'child1' });
    assert.deepEqual(JSON.parse(late.texts(APP)[0] ?? ''), { '@type': 'service', '@parent': 'device/child1//', name: 'app', type: 'service' });
  });

  it('reports a malformed registration on te/errors and stays alive', async () => {
    const daemon = await startAgent();
    const watcher = await probe(['te/errors', HEALTH]);
    await watcher.publish('te/device/broken//', '{"@type": child-device}', { retain: true });
    const error = await watcher.waitForText('te/errors');
    assert.match(error, /^Invalid entity registration on topic 'te\/device\/broken\/\/': Invalid JSON/);
    const before = watcher.texts(HEALTH).length;
    await watcher.publish('te/device/main///cmd/health/check', '{}');
    await watcher.waitFor(() => watcher.texts(HEALTH).length > before, 'a health status after the check');
    assert.equal(daemon.exited, false);
  });

  it('keeps its entities across its own restart and a broker restart that loses retained messages', async () => {
    let daemon = await startAgent();
    const sensor = await probe([CHILD, APP]);
    await sensor.publish('te/device/child1/service/app/m/temp', '{"temperature":21.5}');
    await sensor.waitFor((r) => has(r, CHILD) && has(r, APP), 'both registrations');
    assert.equal(await daemon.stop(), 0);

    const file = readFileSync(join(dir, 'state', 'entity_store.jsonl'), 'utf8');
    assert.match(file, /"topic_id":"device\/child1\/\/"/);
    assert.match(file, /"topic_id":"device\/child1\/service\/app"/);

    await Promise.all(probes.splice(0).map((p) => p.close()));
    await broker.restart();
    const empty = await probe([CHILD]);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(has(empty.received, CHILD), false, 'the restarted broker has no retained registration');

    daemon = await startAgent();
    const late = await probe([CHILD, APP]);
    await late.waitFor((r) => has(r, CHILD) && has(r, APP), 'the republished registrations');
  });

  it('runs on a child device without an entity store, announcing itself to the main agent', async () => {
    env['TEDGE_AGENT_STATE_PATH'] = join(dir, 'child-state');
    const childHealth = 'te/device/child01/service/tedge-agent/status/health';
    const watcher = await probe(['te/device/child01/#', 'te/errors']);
    const daemon = Daemon.start('tedge-agent', ['--mqtt-device-topic-id', 'device/child01//'], env);
    agent = daemon;
    await watcher.waitForText(childHealth, (t) => status(t).status === 'up' && status(t).pid === daemon.process.pid);
    assert.deepEqual(JSON.parse(watcher.texts('te/device/child01/service/tedge-agent')[0] ?? ''), {
      '@type': 'service',
      '@parent': 'device/child01//',
      name: 'tedge-agent',
      type: 'service',
    });
    assert.equal(JSON.parse(watcher.texts('te/device/child01///twin/agent')[0] ?? '{}').name, 'tedge-ts');
    // Health checks reach it through its own subscription.
    const before = watcher.texts(childHealth).length;
    await watcher.publish('te/device/child01///cmd/health/check', '{}');
    await watcher.waitFor(() => watcher.texts(childHealth).length > before, 'a health status after the check');
    assert.equal(watcher.texts('te/errors').length, 0);
  });

  it('prints its version, and refuses bad flags with one clear line', async () => {
    const version = await runCli('tedge-agent', ['--version'], env);
    assert.equal(version.code, 0);
    assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+/);
    const bad = await runCli('tedge-agent', ['--mqtt-device-topic-id', 'not-a-topic-id'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid value 'not-a-topic-id' for 'mqtt.device_topic_id'/);
    assert.doesNotMatch(bad.stderr, /\n {4}at /, 'no stack trace for a configuration error');
  });

  it('republishes its entities when the broker restarts under it', async () => {
    await startAgent();
    const sensor = await probe([CHILD, APP]);
    await sensor.publish('te/device/child1/service/app/m/temp', '{"temperature":21.5}');
    await sensor.waitFor((r) => has(r, CHILD) && has(r, APP), 'both registrations');

    await Promise.all(probes.splice(0).map((p) => p.close()));
    await broker.restart();
    const late = await probe([CHILD, APP, HEALTH]);
    await late.waitFor((r) => has(r, CHILD) && has(r, APP) && has(r, HEALTH), 'registrations and health after the broker restart', 15_000);
  });
});
