import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BusProbe } from '../../helpers/bus-probe';
import { Daemon } from '../../helpers/daemon';
import { MapperUnderTest } from '../../helpers/mapper-under-test';
import type { Mosquitto } from '../../helpers/mosquitto';

const HEALTH = 'te/device/main/service/tedge-mapper-c8y/status/health';

// Twice: by default (telemetry through the flows it installs in <config-dir>/mappers/c8y/flows/), and with
// that directory impossible to make (a file named mappers/c8y), where it falls back to its built-in converter.
for (const mode of ['flows', 'converter'] as const) describe(`tedge-mapper c8y on a real mosquitto (${mode})`, () => {
  let probe: BusProbe;
  let mapper: Daemon;
  let env: Record<string, string>;
  let broker: Mosquitto;
  let underTest: MapperUnderTest;

  before(async () => {
    underTest = await MapperUnderTest.start('c8y', { filters: ['c8y/#', 'te/errors'], env: { TEDGE_DEVICE_ID: 'it-device' }, files: mode === 'flows' ? {} : { 'mappers/c8y': '' } });
    ({ probe, mapper, env, broker } = underTest);
  });

  after(() => underTest.stop());

  it(mode === 'flows' ? 'installs its telemetry flows, with their templates' : 'says once why it cannot install its flows, and maps with its converter', () => {
    const flows = join(underTest.configDir, 'mappers', 'c8y', 'flows');
    for (const name of ['measurements', 'events', 'alarms', 'health']) {
      assert.equal(existsSync(join(flows, `${name}.toml`)) && existsSync(join(flows, `${name}.toml.template`)), mode === 'flows', name);
    }
    const warnings = mapper.output.split('\n').filter((l) => l.includes('cannot install the built-in flows'));
    if (mode === 'flows') assert.deepEqual(warnings, []);
    else assert.equal(warnings.length, 1, mapper.output);
    if (mode === 'converter') assert.match(warnings[0] ?? '', new RegExp(`in ${flows} \\(.*ENOTDIR.*\\): mapping with the built-in converter instead`));
  });

  it('publishes its health up, retained, with its pid', async () => {
    const health = JSON.parse(await probe.waitForText(HEALTH, (t) => t.includes('"up"'))) as { status: string; pid: number };
    assert.equal(health.status, 'up');
    assert.equal(health.pid, mapper.process.pid);
  });

  it('converts a main-device measurement to c8y/measurement/measurements/create', async () => {
    await probe.publish('te/device/main///m/environment', '{"temperature":21.5,"time":"2021-04-30T17:03:14Z"}');
    const out = await probe.waitForText('c8y/measurement/measurements/create', (t) => t.includes('21.5'));
    assert.equal(out, '{"type":"environment","time":"2021-04-30T17:03:14Z","temperature":{"temperature":{"value":21.5}}}');
  });

  it('reports an invalid payload on te/errors, converts nothing from it, and keeps running', async () => {
    await probe.publish('te/device/main///m/bad', '{"temperature":true}');
    const error = await probe.waitForText('te/errors', (t) => t.includes('te/device/main///m/bad'));
    assert.match(error, /invalid type: boolean/);
    await probe.publish('te/device/main///m/after', '{"t":7}');
    await probe.waitForText('c8y/measurement/measurements/create', (t) => t.includes('"after"'));
    assert.ok(!probe.texts('c8y/measurement/measurements/create').some((t) => t.includes('"bad"')));
    assert.equal(mapper.exited, false);
  });

  it('survives a 1 MB payload and malformed UTF-8', async () => {
    await probe.publish('te/device/main///m/huge', `{"a":"${'x'.repeat(1 << 20)}"`);
    await probe.publish('te/device/main///e/utf8', new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]));
    await probe.waitForText('te/errors', (t) => t.includes('te/device/main///m/huge'));
    await probe.waitForText('te/errors', (t) => t.includes('te/device/main///e/utf8') && t.includes('UTF-8'));
    await probe.publish('te/device/main///m/alive', '{"t":1}');
    await probe.waitForText('c8y/measurement/measurements/create', (t) => t.includes('"alive"'));
  });

  it('applies the cloud payload limit to every message kind, not only measurements', async () => {
    const big = 'x'.repeat(20_000);
    await probe.publish('te/device/main///a/huge', JSON.stringify({ severity: 'major', text: big }), { retain: true });
    await probe.publish('te/device/main///twin/huge', JSON.stringify({ text: big }), { retain: true });
    await probe.publish('te/device/bigname//', JSON.stringify({ '@type': 'child-device', name: big }), { retain: true });
    for (const input of ['te/device/main///a/huge', 'te/device/main///twin/huge', 'te/device/bigname//']) {
      const error = await probe.waitForText('te/errors', (t) => t.includes(`'${input}'`));
      assert.match(error, /too large for the cloud: \d+ bytes, the limit is 16184 \(c8y.mapper.mqtt.max_payload_size\)/);
    }
    await probe.publish('te/device/main///m/small', '{"t":1}');
    await probe.waitForText('c8y/measurement/measurements/create', (t) => t.includes('"small"'));
    assert.ok(!probe.received.some((m) => m.topic.startsWith('c8y/') && m.payload.length > 16184), 'nothing over the limit reached the cloud prefix');
  });

  it('maps events and alarms', async () => {
    await probe.publish('te/device/main///e/login', '{"text":"hello","time":"2021-01-01T05:30:45+00:00"}');
    await probe.waitForText('c8y/s/us', (t) => t === '400,login,"hello",2021-01-01T05:30:45+00:00');
    await probe.publish('te/device/main///a/hot', '{"severity":"critical","text":"too hot","time":"2021-01-01T05:30:45+00:00"}', { retain: true });
    await probe.waitForText('c8y/s/us', (t) => t === '301,hot,too hot,2021-01-01T05:30:45+00:00');
    await probe.publish('te/device/main///a/hot', '', { retain: true });
    await probe.waitForText('c8y/s/us', (t) => t === '306,hot');
  });

  it("maps a service's health to 102 on its device's topic", async () => {
    await probe.publish('te/device/main/service/app', '{"@type":"service"}', { retain: true });
    await probe.waitForText('c8y/s/us', (t) => t === '102,it-device:device:main:service:app,service,app,up');
    await probe.publish('te/device/main/service/app/status/health', '{"status":"down"}');
    await probe.waitForText('c8y/s/us', (t) => t === '102,it-device:device:main:service:app,service,app,down');
  });

  it('holds a child measurement until the child registers, then sends 101 and the measurement', async () => {
    await probe.publish('te/device/kid///m/env', '{"t":3,"time":"2021-04-30T17:03:14Z"}');
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(!probe.texts('c8y/measurement/measurements/create').some((t) => t.includes('it-device:device:kid')));
    await probe.publish('te/device/kid//', '{"@type":"child-device","name":"kid"}', { retain: true });
    await probe.waitForText('c8y/s/us', (t) => t === '101,it-device:device:kid,kid,thin-edge.io-child,false');
    const m = await probe.waitForText('c8y/measurement/measurements/create', (t) => t.includes('it-device:device:kid'));
    assert.match(m, /"externalSource":\{"externalId":"it-device:device:kid","type":"c8y_Serial"\}/);
  });

  if (mode === 'flows') {
    it('reloads an edited flow while it runs; a broken edit keeps the previous version', async () => {
      const path = join(underTest.configDir, 'mappers', 'c8y', 'flows', 'measurements.toml');
      writeFileSync(path, readFileSync(path, 'utf8').replace('output.mqtt.topic = "c8y/measurement/measurements/create"', 'output.mqtt.topic = "c8y/edited"'));
      const deadline = Date.now() + 15_000;
      while (probe.texts('c8y/edited').length === 0) {
        assert.ok(Date.now() < deadline, `the edit was not reloaded:\n${mapper.output}`);
        await probe.publish('te/device/main///m/reload', '{"t":1}');
        await new Promise((r) => setTimeout(r, 300));
      }
      writeFileSync(path, 'steps = [');
      await mapper.waitForOutput(/measurements\.toml cannot be loaded \(its previous version keeps running\)/, 15_000);
      const before = probe.texts('c8y/edited').length;
      await probe.publish('te/device/main///m/reload', '{"t":2}');
      await probe.waitForText('c8y/edited', (t) => t.includes('"value":2'));
      assert.ok(probe.texts('c8y/edited').length > before);
    });
  }

  it('publishes health down through the last will when killed', async () => {
    // A second mapper on the same broker is another connection: a profile, so its MQTT session and health topic are its own.
    const killed = Daemon.start('tedge-mapper', ['c8y', '--profile', 'killed'], { ...env, TEDGE_C8Y_PROFILES_KILLED_BRIDGE_TOPIC_PREFIX: 'c8y2' });
    const topic = 'te/device/main/service/tedge-mapper-c8y@killed/status/health';
    const watcher = await BusProbe.connect(broker.port, [topic]);
    try {
      await watcher.waitForText(topic, (t) => t.includes('"up"'));
      await killed.stop('SIGKILL');
      const down = JSON.parse(await watcher.waitForText(topic, (t) => t.includes('"down"'), 15_000)) as { status: string; pid: number };
      assert.deepEqual(down, { status: 'down', pid: killed.process.pid });
    } finally {
      await watcher.close();
    }
  });
});
