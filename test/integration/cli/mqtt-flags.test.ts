import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BusProbe } from '../../helpers/bus-probe';
import { runTedgeIn } from '../../helpers/cli-run';
import { Daemon, runCli } from '../../helpers/daemon';
import { freePort, Mosquitto } from '../../helpers/mosquitto';

/** thin-edge's flags of `tedge mqtt pub|sub`, and the other global ones, on a real mosquitto. */
describe('tedge mqtt flags (real mosquitto)', { timeout: 60_000 }, () => {
  let broker: Mosquitto;
  let probe: BusProbe;
  let configDir: string;
  let env: Record<string, string>;

  before(async () => {
    broker = await Mosquitto.start();
    probe = await BusProbe.connect(broker.port, ['flags/#']);
    configDir = mkdtempSync(join(tmpdir(), 'tedge-cli-flags-'));
    env = { TEDGE_CONFIG_DIR: configDir, TEDGE_MQTT_CLIENT_PORT: String(broker.port) };
  });
  after(async () => {
    await probe.close();
    await broker.stop();
    rmSync(configDir, { recursive: true, force: true });
  });

  const payloads = (topic: string): Buffer[] => probe.received.filter((m) => m.topic === topic).map((m) => Buffer.from(m.payload));

  it('pub --base64 publishes the decoded bytes; invalid base64 fails in one line', async () => {
    assert.deepEqual(await runCli('tedge', ['mqtt', 'pub', '--base64', 'flags/b64', 'AAEC/w=='], env), { code: 0, stdout: '', stderr: '' });
    await probe.waitFor(() => payloads('flags/b64').length === 1, 'the decoded message');
    assert.deepEqual(payloads('flags/b64')[0], Buffer.from([0, 1, 2, 255]));
    const bad = await runCli('tedge', ['mqtt', 'pub', '--base64', 'flags/b64', 'not base64!'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error: --base64: the message is not valid base64: 'not base64!'\n$/);
  });

  it('pub --repeat 3 --sleep 200ms publishes three times, pausing between them', async () => {
    const started = Date.now();
    assert.equal((await runCli('tedge', ['mqtt', 'pub', '--repeat', '3', '--sleep', '200ms', 'flags/repeat', 'r'], env)).code, 0);
    await probe.waitFor(() => payloads('flags/repeat').length === 3, 'three messages');
    assert.ok(Date.now() - started >= 400, 'two pauses of 200 ms');
  });

  it('pub --repeat 0 publishes until Ctrl-C', async () => {
    const pub = Daemon.start('tedge', ['mqtt', 'pub', '--repeat', '0', '--sleep', '50ms', 'flags/forever', 'f'], env);
    await probe.waitFor(() => payloads('flags/forever').length >= 3, 'several messages');
    assert.equal(await pub.stop('SIGINT'), 0);
  });

  it('sub prints a payload that is not UTF-8 as thin-edge does, and --base64 encodes every payload', async () => {
    await probe.publish('flags/bytes', Buffer.from([0xff, 0xfe, 0x41]), { retain: true });
    const plain = await runCli('tedge', ['mqtt', 'sub', '-C', '1', 'flags/bytes'], env);
    assert.deepEqual(plain, { code: 0, stdout: '[flags/bytes] <ERR=NON-UTF8> //5B\n', stderr: '' });
    await probe.publish('flags/text', 'héllo', { retain: true });
    const b64 = await runCli('tedge', ['mqtt', 'sub', '--base64', '--no-topic', '-C', '1', 'flags/text'], env);
    assert.deepEqual(b64, { code: 0, stdout: `${Buffer.from('héllo').toString('base64')}\n`, stderr: '' });
  });

  it('sub --retained-only prints the retained messages and exits at the first live one', async () => {
    await probe.publish('flags/ret/a', '1', { retain: true });
    await probe.publish('flags/ret/b', '2', { retain: true });
    const sub = Daemon.start('tedge', ['mqtt', 'sub', '--retained-only', 'flags/ret/+'], env);
    await sub.waitForOutput(/\[flags\/ret\/b\] 2\n/);
    await probe.publish('flags/ret/c', 'live');
    const code = await new Promise((resolve) => (sub.exited ? resolve(sub.process.exitCode) : sub.process.once('exit', (c) => resolve(c))));
    assert.equal(code, 0);
    assert.deepEqual(sub.output.trimEnd().split('\n').sort(), ['[flags/ret/a] 1', '[flags/ret/b] 2']);
  });

  it('sub -C 0 has no limit', async () => {
    for (const n of [1, 2, 3]) await probe.publish(`flags/nolimit/${n}`, String(n), { retain: true });
    const run = await runCli('tedge', ['mqtt', 'sub', '-C', '0', '-W', '1', 'flags/nolimit/+'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trimEnd().split('\n').length, 3);
  });

  it('--connection-timeout 0 waits for a broker that is not there yet', async () => {
    const port = await freePort();
    const sub = Daemon.start('tedge', ['mqtt', 'sub', '--connection-timeout', '0', '-C', '1', 'flags/late'], { ...env, TEDGE_MQTT_CLIENT_PORT: String(port) });
    try {
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(sub.exited, false, sub.output);
      const late = await Mosquitto.start({ port });
      try {
        const lateProbe = await BusProbe.connect(port);
        await lateProbe.publish('flags/late', 'here', { retain: true });
        await lateProbe.close();
        await sub.waitForOutput(/\[flags\/late\] here\n/, 10_000);
      } finally {
        await sub.stop();
        await late.stop();
      }
    } finally {
      await sub.stop();
    }
  });

  it('Ctrl-C while waiting for ever for the broker ends with 0 and no error', async () => {
    const sub = Daemon.start('tedge', ['mqtt', 'sub', '--connection-timeout', '0', 'flags/never'], { ...env, TEDGE_MQTT_CLIENT_PORT: String(await freePort()) });
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(await sub.stop('SIGINT'), 0);
    assert.equal(sub.output, '');
  });

  const usage: Array<[string, string[], RegExp]> = [
    ['an unknown option', ['mqtt', 'pub', '--nope', 't', 'x'], /unknown option '--nope'/],
    ['a count that is not a number', ['mqtt', 'sub', '-C', 'many', 't'], /-C, --count/],
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['a missing argument', ['mqtt', 'pub', 't'], /missing required argument 'payload'/],
  ];
  for (const [name, args, pattern] of usage) {
    // In-process (as bin runs it): a process per case would only add start-up time.
    it(`a usage error (${name}) exits 2 and prints one line`, async () => {
      const run = await runTedgeIn(configDir, args);
      assert.equal(run.code, 2);
      assert.equal(run.err.trimEnd().split('\n').length, 1, run.err);
      assert.match(run.err, pattern);
    });
  }

  it('the daemons too: a usage error exits 2 with one line', async () => {
    for (const bin of ['tedge-agent', 'tedge-mapper'] as const) {
      const run = await runCli(bin, ['--nope'], env);
      assert.equal(run.code, 2, `${bin}: ${run.stderr}`);
      assert.equal(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
    }
  });

  it('--debug is accepted by tedge and by the daemons', async () => {
    assert.equal((await runCli('tedge', ['--debug', 'mqtt', 'pub', 'flags/debug', 'd'], env)).code, 0);
    const agent = await runCli('tedge-agent', ['--debug', '--version'], env);
    assert.equal(agent.code, 0);
  });
});
