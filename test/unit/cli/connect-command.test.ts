import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { type CliRun, assertOneErrorLine, runTedgeIn } from '../../helpers/cli-run';

type Run = CliRun;

const ACTIONS = ['restart', 'stop', 'start', 'enable', 'disable', 'is_active'] as const;

/**
 * tedge connect/disconnect without a cloud (--offline): what is written and which service commands
 * run, through a system.toml whose commands record their argv (and can be made to fail).
 */
describe('tedge connect --offline / disconnect', () => {
  let dir: string;
  let broker: Server;
  let port: number;
  let env: Record<string, string>;

  function tedge(args: readonly string[]): Promise<Run> {
    return runTedgeIn(dir, args, { env });
  }

  /** system.toml whose commands run record.sh <action> <service>; `failing` exits 1 for that action. */
  function writeSystemToml(opts: { failing?: string; available?: boolean } = {}): void {
    const script = join(dir, 'record.sh');
    writeFileSync(script, `#!/bin/sh\necho "$*" >> '${join(dir, 'calls.log')}'\n[ "$1" = "${opts.failing ?? '-'}" ] && { echo "$1 $2: no such unit" >&2; exit 4; }\nexit 0\n`);
    chmodSync(script, 0o755);
    const lines = ['[init]', 'name = "recorder"', `is_available = ["${opts.available === false ? '/bin/false' : '/bin/true'}"]`, ...ACTIONS.map((a) => `${a} = ["${script}", "${a}", "{}"]`)];
    writeFileSync(join(dir, 'system.toml'), `${lines.join('\n')}\n`);
  }

  const calls = (): string[] => (existsSync(join(dir, 'calls.log')) ? readFileSync(join(dir, 'calls.log'), 'utf8').trimEnd().split('\n') : []);
  const bridgeFile = (cloud = 'c8y'): string => join(dir, 'mosquitto-conf', `${cloud}-bridge.conf`);

  before(async () => {
    // Stands in for the local mosquitto that `tedge connect` waits for after restarting it.
    broker = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => broker.listen(0, '127.0.0.1', resolve));
    port = (broker.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => broker.close(() => resolve())));

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-cli-connect-'));
    env = { TEDGE_MQTT_CLIENT_PORT: String(port), TEDGE_C8Y_URL: 'tenant.example.com', TEDGE_AZ_URL: 'hub.example.com', TEDGE_AWS_URL: 'aws.example.com' };
    writeSystemToml();
    assert.equal((await tedge(['cert', 'create', '--device-id', 'dev-1'])).code, 0);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('connect c8y --offline: summary, steps, the built-in bridge file, services through system.toml', async () => {
    const run = await tedge(['connect', 'c8y', '--offline']);
    assert.equal(run.code, 0, run.err);
    assert.equal(run.err, '');
    assert.match(run.out, /^Connecting to Cumulocity with:\n\tdevice id: +dev-1\n\tcloud host: +tenant\.example\.com:8883\n\tauth type: +certificate\n\tcertificate file: +.*tedge-certificate\.pem\n\troot certificates: +\/etc\/ssl\/certs \(c8y\.root_cert_path\)\n\tbridge: +built-in\n\tservice manager: +recorder \(.*system\.toml\)\n/);
    assert.match(run.out, /^validating the device certificate .* ok \(valid until .*\)$/m);
    assert.match(run.out, /^checking the connection\.\.\. skipped: --offline$/m);
    assert.match(run.out, /^creating the device in Cumulocity\.\.\. skipped: --offline$/m);
    assert.match(run.out, /^writing .*c8y-bridge\.conf\.\.\. ok \(built-in bridge\)$/m);
    assert.match(run.out, new RegExp(`^waiting for mosquitto to listen on 127\\.0\\.0\\.1:${port}\\.\\.\\. ok$`, 'm'));
    assert.match(run.out, /Connected to Cumulocity\n$/);
    assert.equal(readFileSync(bridgeFile(), 'utf8'), '# This file is left empty as the built-in bridge is enabled\n');
    assert.deepEqual(calls(), ['restart mosquitto', 'enable mosquitto', 'start tedge-mapper-c8y', 'enable tedge-mapper-c8y', 'start tedge-agent', 'enable tedge-agent']);
  });

  it('connect aws --offline with mqtt.bridge.built_in=false writes a mosquitto bridge and starts only the mapper', async () => {
    assert.equal((await tedge(['config', 'set', 'mqtt.bridge.built_in', 'false'])).code, 0);
    const run = await tedge(['connect', 'aws', '--offline']);
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /^\tbridge: +mosquitto$/m);
    assert.match(readFileSync(bridgeFile('aws'), 'utf8'), /^connection edge_to_aws\naddress aws\.example\.com:8883\n/m);
    assert.deepEqual(calls(), ['restart mosquitto', 'enable mosquitto', 'start tedge-mapper-aws', 'enable tedge-mapper-aws']);
  });

  it('already connected: one clear error line, nothing run', async () => {
    await tedge(['connect', 'c8y', '--offline']);
    rmSync(join(dir, 'calls.log'), { force: true });
    const run = await tedge(['connect', 'c8y', '--offline']);
    assert.equal(run.code, 1);
    assertOneErrorLine(run, /^error: already connected to Cumulocity \(.*c8y-bridge\.conf exists\); check it with: tedge connect c8y --test, or run: tedge disconnect c8y$/);
    assert.deepEqual(calls(), []);
  });

  it('a failing service command: its line as the error, the bridge file removed so that connect can be run again', async () => {
    writeSystemToml({ failing: 'start' });
    const run = await tedge(['connect', 'az', '--offline']);
    assert.equal(run.code, 1);
    assertOneErrorLine(run, /^error: cannot start tedge-mapper-az: .*record\.sh start tedge-mapper-az exited with 4: start tedge-mapper-az: no such unit$/);
    assert.match(run.out, /^starting tedge-mapper-az\.\.\. failed$/m);
    assert.match(run.out, /^removed .*az-bridge\.conf: run tedge connect az again once this is fixed$/m);
    assert.equal(existsSync(bridgeFile('az')), false);
  });

  it('a service manager that is not available: files written, services skipped with a hint, exit 0', async () => {
    writeSystemToml({ available: false });
    const run = await tedge(['connect', 'c8y', '--offline']);
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /^checking the service manager recorder\.\.\. ok \(not available\)$/m);
    assert.match(run.out, /^starting services\.\.\. skipped: recorder is not available here; restart mosquitto, tedge-mapper-c8y, tedge-agent yourself/m);
    assert.deepEqual(calls(), []);
    assert.equal(existsSync(bridgeFile()), true);
  });

  it('disconnect removes the bridge file, restarts mosquitto, stops and disables the mapper; again: nothing to do', async () => {
    await tedge(['connect', 'c8y', '--offline']);
    rmSync(join(dir, 'calls.log'), { force: true });
    const run = await tedge(['disconnect', 'c8y']);
    assert.equal(run.code, 0, run.err);
    assert.equal(existsSync(bridgeFile()), false);
    assert.deepEqual(calls(), ['restart mosquitto', 'stop tedge-mapper-c8y', 'disable tedge-mapper-c8y']);
    assert.match(run.out, /Disconnected from Cumulocity\n$/);
    const again = await tedge(['disconnect', 'c8y']);
    assert.equal(again.code, 0);
    assert.match(again.out, /^Not connected to Cumulocity: there is no .*c8y-bridge\.conf; nothing to do\n$/);
  });

  it('disconnect attempts every step and fails with the first failure', async () => {
    await tedge(['connect', 'c8y', '--offline']);
    writeSystemToml({ failing: 'stop' });
    const run = await tedge(['disconnect', 'c8y']);
    assert.equal(run.code, 1);
    assertOneErrorLine(run, /^error: cannot stop tedge-mapper-c8y: /);
    assert.match(run.out, /^stopping tedge-mapper-c8y\.\.\. failed\ndisabling tedge-mapper-c8y\.\.\. ok$/m);
  });

  it('reconnect --offline: disconnect, then connect again', async () => {
    await tedge(['connect', 'c8y', '--offline']);
    rmSync(join(dir, 'calls.log'), { force: true });
    const run = await tedge(['reconnect', 'c8y', '--offline']);
    assert.equal(run.code, 0, run.err);
    assert.deepEqual(calls(), [
      'restart mosquitto',
      'stop tedge-mapper-c8y',
      'disable tedge-mapper-c8y',
      'restart mosquitto',
      'enable mosquitto',
      'start tedge-mapper-c8y',
      'enable tedge-mapper-c8y',
      'start tedge-agent',
      'enable tedge-agent',
    ]);
    assert.equal(existsSync(bridgeFile()), true);
  });

  it('--test on a device that is not connected is an error', async () => {
    const run = await tedge(['connect', 'c8y', '--test']);
    assert.equal(run.code, 1);
    assertOneErrorLine(run, /^error: not connected to Cumulocity: there is no .*c8y-bridge\.conf; connect with: tedge connect c8y$/);
  });

  it('usage errors exit 2: unknown cloud, --test with --offline, a bad --timeout', async () => {
    assert.equal((await tedge(['connect', 'gcp'])).code, 2);
    assert.equal((await tedge(['disconnect'])).code, 2);
    const both = await tedge(['connect', 'c8y', '--test', '--offline']);
    assert.equal(both.code, 2);
    assertOneErrorLine(both, /--test and --offline exclude each other/);
    assert.equal((await tedge(['connect', 'c8y', '--timeout', 'soon'])).code, 2);
  });

  it('no url configured, no certificate, a broken system.toml: one line each, exit 1', async () => {
    delete env['TEDGE_AWS_URL'];
    assertOneErrorLine(await tedge(['connect', 'aws', '--offline']), /^error: 'aws\.url' is not set; set it with: tedge config set aws\.url /);
    writeFileSync(join(dir, 'system.toml'), '[init]\nname = "x"\n');
    assertOneErrorLine(await tedge(['connect', 'az', '--offline']), /^error: .*system\.toml: \[init\] lacks restart, stop, start, enable, disable, is_active/);
    rmSync(join(dir, 'system.toml'));
    assert.equal((await tedge(['cert', 'remove'])).code, 0);
    assertOneErrorLine(await tedge(['connect', 'az', '--offline']), /^error: no device id: there is no device certificate at /);
  });
});
