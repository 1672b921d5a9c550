import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BusProbe } from '../../helpers/bus-probe';
import { Daemon, runCli } from '../../helpers/daemon';
import { Mosquitto } from '../../helpers/mosquitto';

const AGENT_HEALTH = 'te/device/main/service/tedge-agent/status/health';
const MAPPER_HEALTH = 'te/device/main/service/tedge-mapper-c8y/status/health';
const MEASUREMENTS = 'c8y/measurement/measurements/create';
const USER_MAPPER_HEALTH = 'te/device/main/service/tedge-mapper-acme/status/health';

describe('tedge run all on a real mosquitto', () => {
  let broker: Mosquitto;
  let probe: BusProbe;
  let daemon: Daemon;
  let configDir: string;
  let env: Record<string, string>;

  before(async () => {
    broker = await Mosquitto.start();
    configDir = mkdtempSync(join(tmpdir(), 'tedge-run-all-it-'));
    env = {
      TEDGE_CONFIG_DIR: configDir,
      TEDGE_MQTT_CLIENT_PORT: String(broker.port),
      TEDGE_DEVICE_ID: 'run-all-device',
      TEDGE_AGENT_STATE_PATH: join(configDir, 'agent'),
      TEDGE_DATA_PATH: join(configDir, 'data'),
      TEDGE_LOGS_PATH: join(configDir, 'logs'),
      TEDGE_RUN_PATH: join(configDir, 'run'),
      TEDGE_TMP_PATH: join(configDir, 'tmp'),
    };
    // A user-defined mapper (thin-edge 2.x layout): run all starts it beside the built-in ones.
    mkdirSync(join(configDir, 'mappers', 'acme', 'flows'), { recursive: true });
    writeFileSync(join(configDir, 'mappers', 'acme', 'flows', 'up.toml'), 'input.mqtt.topics = ["te/+/+/+/+/m/+"]\n[[steps]]\nscript = "up.js"\n');
    writeFileSync(join(configDir, 'mappers', 'acme', 'flows', 'up.js'), 'export function onMessage(m) { return { topic: "acme/up", payload: m.payload }; }');
    probe = await BusProbe.connect(broker.port, ['c8y/#', 'acme/#', 'te/errors', AGENT_HEALTH, MAPPER_HEALTH, USER_MAPPER_HEALTH]);
    daemon = Daemon.start('tedge', ['run', 'all'], env);
    await probe.waitForText(AGENT_HEALTH, (t) => t.includes('"up"'), 15_000);
    await probe.waitForText(MAPPER_HEALTH, (t) => t.includes('"up"'), 15_000);
  });

  after(async () => {
    if (!daemon.exited) await daemon.stop();
    await probe.close();
    await broker.stop();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('runs the agent and the c8y mapper in one process, each with its own health topic', () => {
    const agent = JSON.parse(probe.texts(AGENT_HEALTH).find((t) => t.includes('"up"')) ?? '{}') as { pid?: number };
    const mapper = JSON.parse(probe.texts(MAPPER_HEALTH).find((t) => t.includes('"up"')) ?? '{}') as { pid?: number };
    assert.equal(agent.pid, daemon.process.pid);
    assert.equal(mapper.pid, daemon.process.pid);
  });

  it('runs the user-defined mapper of <config-dir>/mappers/acme as a supervised component', async () => {
    const health = JSON.parse(await probe.waitForText(USER_MAPPER_HEALTH, (t) => t.includes('"up"'), 15_000)) as { pid?: number };
    assert.equal(health.pid, daemon.process.pid);
    await probe.publish('te/device/main///m/acme', '{"x":1}');
    assert.equal(await probe.waitForText('acme/up'), '{"x":1}');
  });

  it('converts a measurement to c8y/measurement/measurements/create', async () => {
    await probe.publish('te/device/main///m/environment', '{"temperature":21.5,"time":"2021-04-30T17:03:14Z"}');
    const out = await probe.waitForText(MEASUREMENTS, (t) => t.includes('21.5'));
    assert.equal(out, '{"type":"environment","time":"2021-04-30T17:03:14Z","temperature":{"temperature":{"value":21.5}}}');
  });

  it('takes each component\'s level from system.toml, and SIGHUP reads it again for every component', async () => {
    writeFileSync(join(configDir, 'system.toml'), '[log]\ntedge-agent = "debug"\ntedge-mapper = "warn"\n');
    daemon.process.kill('SIGHUP');
    await daemon.waitForOutput(/ INFO tedge-agent: SIGHUP: log level is now debug \(from system\.toml\)/);
    await daemon.waitForOutput(/ INFO tedge-run-all: SIGHUP: log level is now info \(from system\.toml\)/);
    // The mapper now logs at warn: its own reload line (info) is not printed, and the process is still up.
    await new Promise((r) => setTimeout(r, 300));
    assert.doesNotMatch(daemon.output, /tedge-mapper-c8y: SIGHUP/);
    assert.equal(daemon.exited, false);
    writeFileSync(join(configDir, 'system.toml'), '');
    daemon.process.kill('SIGHUP');
    await daemon.waitForOutput(/ INFO tedge-mapper-c8y: SIGHUP: log level is now info/);
  });

  it('restarts the mappers on SIGUSR1, leaving the agent alone, and goes on converting', async () => {
    const agentUps = probe.texts(AGENT_HEALTH).length;
    const mapperMessages = probe.texts(MAPPER_HEALTH).length;
    daemon.process.kill('SIGUSR1');
    await probe.waitFor((all) => all.filter((m) => m.topic === MAPPER_HEALTH).length >= mapperMessages + 2, 'the mapper going down and up again');
    const lastTwo = probe.texts(MAPPER_HEALTH).slice(-2);
    assert.match(lastTwo[0] ?? '', /"down"/);
    assert.match(lastTwo[1] ?? '', /"up"/);
    assert.equal(probe.texts(AGENT_HEALTH).length, agentUps);
    await probe.publish('te/device/main///m/after_restart', '{"t":7}');
    await probe.waitForText(MEASUREMENTS, (t) => t.includes('"after_restart"'));
    assert.equal(daemon.exited, false);
  });

  it('drains both on SIGTERM: each publishes down, and the process exits 0', async () => {
    const code = await daemon.stop('SIGTERM');
    assert.equal(code, 0);
    await probe.waitForText(AGENT_HEALTH, (t) => t.includes('"down"'));
    await probe.waitForText(MAPPER_HEALTH, (t) => t.includes('"down"'));
  });

  it('rejects an unknown mapper with a usage error', async () => {
    const result = await runCli('tedge', ['run', 'all', '--mappers', 'c8y,nope'], env);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown mapper\(s\) nope/);
  });
});
