import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BusProbe } from '../../helpers/bus-probe';
import { Daemon, runCli } from '../../helpers/daemon';
import { freePort, Mosquitto } from '../../helpers/mosquitto';

/** stderr is exactly one `error: ...` line matching `pattern`. */
function assertOneErrorLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected one error line, got:\n${stderr}`);
  assert.match(lines[0] ?? '', /^error: /);
  assert.match(lines[0] ?? '', pattern);
}

async function waitUntil(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('tedge mqtt (real mosquitto, CLI as a process)', () => {
  let broker: Mosquitto;
  let configDir: string;
  let env: Record<string, string>;

  before(async () => {
    broker = await Mosquitto.start();
    // An empty config dir, so nothing from /etc/tedge leaks in; the port comes from the env override.
    configDir = mkdtempSync(join(tmpdir(), 'tedge-cli-mqtt-'));
    env = { TEDGE_CONFIG_DIR: configDir, TEDGE_MQTT_CLIENT_PORT: String(broker.port) };
  });
  after(async () => {
    await broker.stop();
    rmSync(configDir, { recursive: true, force: true });
  });

  describe('pub', () => {
    const qosCases: Array<[string, string[], 0 | 1]> = [
      ['default QoS 1', [], 1],
      ['-q 0', ['-q', '0'], 0],
      ['--qos 2 (delivered at the probe subscription QoS 1)', ['--qos', '2'], 1],
    ];
    for (const [name, flags, expectedQos] of qosCases) {
      it(`publishes with ${name}`, async () => {
        const topic = `cli/pub/qos/${expectedQos}/${flags.join('')}`;
        const probe = await BusProbe.connect(broker.port, [topic]);
        try {
          const run = await runCli('tedge', ['mqtt', 'pub', ...flags, topic, 'hello'], env);
          assert.deepEqual(run, { code: 0, stdout: '', stderr: '' });
          await probe.waitFor((all) => all.some((m) => m.topic === topic), `a message on ${topic}`);
          const got = probe.received.find((m) => m.topic === topic);
          assert.equal(Buffer.from(got?.payload ?? []).toString(), 'hello');
          assert.equal(got?.qos, expectedQos);
          assert.equal(got?.retain, false);
        } finally {
          await probe.close();
        }
      });
    }

    it('-r retains the message for a later subscriber; without -r nothing is retained', async () => {
      assert.equal((await runCli('tedge', ['mqtt', 'pub', '-r', 'cli/pub/retained', 'kept'], env)).code, 0);
      assert.equal((await runCli('tedge', ['mqtt', 'pub', 'cli/pub/not-retained', 'gone'], env)).code, 0);
      const later = await BusProbe.connect(broker.port, ['cli/pub/retained', 'cli/pub/not-retained']);
      try {
        assert.equal(await later.waitForText('cli/pub/retained'), 'kept');
        assert.equal(later.received.find((m) => m.topic === 'cli/pub/retained')?.retain, true);
        await new Promise((r) => setTimeout(r, 200));
        assert.deepEqual(later.texts('cli/pub/not-retained'), []);
      } finally {
        await later.close();
      }
    });

    it('fails fast with one clear line when the broker is unreachable', async () => {
      const deadPort = await freePort();
      const started = Date.now();
      const run = await runCli('tedge', ['mqtt', 'pub', 'cli/x', 'y'], { ...env, TEDGE_MQTT_CLIENT_PORT: String(deadPort) });
      assert.equal(run.code, 1);
      assertOneErrorLine(run.stderr, new RegExp(`cannot connect to the MQTT broker at 127\\.0\\.0\\.1:${deadPort}`));
      assert.ok(Date.now() - started < 5000, 'refused connection does not wait for the timeout');
    });

    it('--connection-timeout bounds the wait on a broker that never answers', async () => {
      // Accepts TCP connections but never sends CONNACK.
      const sockets: Socket[] = [];
      const silent: Server = createServer((s) => sockets.push(s));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const address = silent.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      try {
        const started = Date.now();
        const run = await runCli('tedge', ['mqtt', 'pub', '--connection-timeout', '1', 'cli/x', 'y'], { ...env, TEDGE_MQTT_CLIENT_PORT: String(port) });
        const elapsed = Date.now() - started;
        assert.equal(run.code, 1);
        assertOneErrorLine(run.stderr, /cannot connect to the MQTT broker/);
        assert.ok(elapsed >= 900 && elapsed < 4500, `exited after ${elapsed} ms`);
      } finally {
        sockets.forEach((s) => s.destroy());
        silent.close();
      }
    });

    for (const topic of ['cli/+/x', 'cli/#', '']) {
      it(`rejects the topic name '${topic}' with a usage error before connecting`, async () => {
        const run = await runCli('tedge', ['mqtt', 'pub', topic, 'y'], { ...env, TEDGE_MQTT_CLIENT_PORT: '1' });
        assert.equal(run.code, 2);
        assertOneErrorLine(run.stderr, /invalid topic name/);
      });
    }

    it('rejects a QoS outside 0..2 as a usage error', async () => {
      const run = await runCli('tedge', ['mqtt', 'pub', '-q', '3', 'cli/x', 'y'], env);
      assert.equal(run.code, 2);
      assertOneErrorLine(run.stderr, /-q, --qos.*'3' is invalid/);
    });
  });

  describe('sub', () => {
    it('-C 2 prints two [topic] payload lines and exits 0', async () => {
      const probe = await BusProbe.connect(broker.port);
      try {
        // Retained, so they are there the moment the CLI subscribes: no race with its start-up.
        await probe.publish('cli/sub/count/a', '{"temp":1}', { retain: true });
        await probe.publish('cli/sub/count/b', 'two words', { retain: true });
        const run = await runCli('tedge', ['mqtt', 'sub', '-C', '2', 'cli/sub/count/+'], env);
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(run.stdout.trimEnd().split('\n').sort(), ['[cli/sub/count/a] {"temp":1}', '[cli/sub/count/b] two words']);
        assert.equal(run.stderr, '');
      } finally {
        await probe.close();
      }
    });

    it('receives live messages published after it subscribed', async () => {
      const probe = await BusProbe.connect(broker.port);
      try {
        const run = runCli('tedge', ['mqtt', 'sub', '--count', '1', 'cli/sub/live/#'], env);
        let finished = false;
        void run.then(() => (finished = true));
        // Keep publishing until the CLI has subscribed and got one.
        while (!finished) {
          await probe.publish('cli/sub/live/x', 'ping');
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.deepEqual(await run, { code: 0, stdout: '[cli/sub/live/x] ping\n', stderr: '' });
      } finally {
        await probe.close();
      }
    });

    it('--no-topic prints only the payload', async () => {
      const probe = await BusProbe.connect(broker.port);
      try {
        await probe.publish('cli/sub/notopic', 'just this', { retain: true });
        const run = await runCli('tedge', ['mqtt', 'sub', '--no-topic', '-C', '1', 'cli/sub/notopic'], env);
        assert.deepEqual(run, { code: 0, stdout: 'just this\n', stderr: '' });
      } finally {
        await probe.close();
      }
    });

    it('-W 1 exits 0 after about a second when nothing arrives', async () => {
      const started = Date.now();
      const run = await runCli('tedge', ['mqtt', 'sub', '-W', '1', 'cli/sub/silence/#'], env);
      const elapsed = Date.now() - started;
      assert.deepEqual(run, { code: 0, stdout: '', stderr: '' });
      assert.ok(elapsed >= 1000 && elapsed < 5000, `exited after ${elapsed} ms`);
    });

    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      it(`${signal} ends a running sub cleanly with exit 0`, async () => {
        const probe = await BusProbe.connect(broker.port);
        const topic = `cli/sub/signal/${signal}`;
        try {
          await probe.publish(topic, 'up', { retain: true });
          const sub = Daemon.start('tedge', ['mqtt', 'sub', topic], env);
          // The retained message printed means it is connected and subscribed.
          await waitUntil(() => sub.output.includes(`[${topic}] up`), 'the sub to print the retained message');
          assert.equal(await sub.stop(signal), 0);
          assert.equal(sub.output, `[${topic}] up\n`);
        } finally {
          await probe.close();
        }
      });
    }

    for (const filter of ['cli/#/x', 'cli/a+', '']) {
      it(`rejects the filter '${filter}' with a usage error`, async () => {
        const run = await runCli('tedge', ['mqtt', 'sub', filter], env);
        assert.equal(run.code, 2);
        assertOneErrorLine(run.stderr, /invalid topic filter/);
      });
    }

    it('fails fast with one clear line when the broker is unreachable', async () => {
      const run = await runCli('tedge', ['mqtt', 'sub', 'cli/#'], { ...env, TEDGE_MQTT_CLIENT_PORT: String(await freePort()) });
      assert.equal(run.code, 1);
      assertOneErrorLine(run.stderr, /cannot connect to the MQTT broker/);
    });
  });

  it('reads the broker port from the config file too (mqtt.bind.port → mqtt.client.port)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tedge-cli-mqtt-file-'));
    try {
      const fileEnv = { TEDGE_CONFIG_DIR: dir };
      assert.equal((await runCli('tedge', ['config', 'set', 'mqtt.bind.port', String(broker.port)], fileEnv)).code, 0);
      const probe = await BusProbe.connect(broker.port, ['cli/file']);
      try {
        assert.equal((await runCli('tedge', ['mqtt', 'pub', 'cli/file', 'via-file'], fileEnv)).code, 0);
        assert.equal(await probe.waitForText('cli/file'), 'via-file');
      } finally {
        await probe.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
