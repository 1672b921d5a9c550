import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { type CliRun, assertOneErrorLine, runTedgeIn } from '../../helpers/cli-run';

/**
 * Cloud profiles through the CLI (--profile on config, cert, connect, disconnect) and the config
 * commands of thin-edge 2.x a user's scripts call: add/remove on lists, types checked at set.
 */
describe('tedge ... --profile', () => {
  let dir: string;
  let broker: Server;
  let env: Record<string, string>;
  const tedge = (args: readonly string[]): Promise<CliRun> => runTedgeIn(dir, args, { env });
  const calls = (): string[] => (existsSync(join(dir, 'calls.log')) ? readFileSync(join(dir, 'calls.log'), 'utf8').trimEnd().split('\n') : []);

  before(async () => {
    // Stands in for the local mosquitto that `tedge connect` waits for after restarting it.
    broker = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => broker.listen(0, '127.0.0.1', resolve));
  });
  after(() => new Promise<void>((resolve) => broker.close(() => resolve())));

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-cli-profile-'));
    env = { TEDGE_MQTT_CLIENT_PORT: String((broker.address() as { port: number }).port) };
    // system.toml whose service commands record what they were asked.
    const script = join(dir, 'record.sh');
    writeFileSync(script, `#!/bin/sh\necho "$*" >> '${join(dir, 'calls.log')}'\n`);
    chmodSync(script, 0o755);
    const actions = ['restart', 'stop', 'start', 'enable', 'disable', 'is_active'].map((a) => `${a} = ["${script}", "${a}", "{}"]`);
    writeFileSync(join(dir, 'system.toml'), ['[init]', 'name = "recorder"', 'is_available = ["/bin/true"]', ...actions, ''].join('\n'));
    for (const args of [
      ['cert', 'create', '--device-id', 'dev-1'],
      ['config', 'set', 'c8y.url', 'first.example.com'],
      ['config', 'set', 'c8y.url', 'second.example.com', '--profile', 'second'],
      ['config', 'set', 'c8y.profiles.second.bridge.topic_prefix', 'c8y-second'],
    ]) assert.equal((await tedge(args)).code, 0, args.join(' '));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('config get/set --profile and the profiled key name are the same key', async () => {
    assert.equal((await tedge(['config', 'get', 'c8y.url'])).out, 'first.example.com\n');
    assert.equal((await tedge(['config', 'get', 'c8y.url', '--profile', 'second'])).out, 'second.example.com\n');
    assert.equal((await tedge(['config', 'get', 'c8y.profiles.second.url'])).out, 'second.example.com\n');
    assert.equal((await runTedgeIn(dir, ['config', 'get', 'c8y.url'], { env: { ...env, TEDGE_CLOUD_PROFILE: 'second' } })).out, 'second.example.com\n');
    // Derived defaults follow the profile's own keys; unset keys have the table's default, not the default profile's value.
    assert.equal((await tedge(['config', 'get', 'c8y.mqtt', '--profile', 'second'])).out, 'second.example.com:8883\n');
    assert.equal((await tedge(['config', 'get', 'c8y.proxy.bind.port', '--profile', 'second'])).out, '8001\n');
    assert.match(readFileSync(join(dir, 'tedge.ini'), 'utf8'), /^\[c8y\.profiles\.second\]\nurl = second\.example\.com$/m);
  });

  const refused: Array<[string, readonly string[], RegExp]> = [
    ['--profile on a key that is not a cloud key', ['config', 'get', 'mqtt.bind.port', '--profile', 'second'], /'mqtt\.bind\.port' has no per-profile value/],
    ['a profile name with a dot', ['config', 'set', 'c8y.url', 'x.example.com', '--profile', 'a.b'], /invalid profile name 'a\.b'/],
    ['a profiled key of no table key', ['config', 'set', 'c8y.profiles.second.nope', 'x'], /unknown configuration key: 'c8y\.profiles\.second\.nope'/],
    ['a bad value of a profiled key, named as stored', ['config', 'set', 'c8y.bridge.topic_prefix', 'c8y/#', '--profile', 'second'], /invalid value 'c8y\/#' for 'c8y\.profiles\.second\.bridge\.topic_prefix'/],
  ];
  for (const [what, args, pattern] of refused) it(`refuses ${what}, in one line`, async () => assertOneErrorLine(await tedge(args), pattern));

  it('connect --profile writes c8y@<profile>-bridge.conf and starts tedge-mapper-c8y@<profile>; disconnect --profile undoes only that', async () => {
    const run = await tedge(['connect', 'c8y', '--offline', '--profile', 'second']);
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /cloud host: +second\.example\.com:8883/);
    assert.ok(existsSync(join(dir, 'mosquitto-conf', 'c8y@second-bridge.conf')));
    assert.equal(existsSync(join(dir, 'mosquitto-conf', 'c8y-bridge.conf')), false);
    assert.deepEqual(calls().filter((c) => c.includes('mapper')), ['start tedge-mapper-c8y@second', 'enable tedge-mapper-c8y@second']);
    assertOneErrorLine(await tedge(['connect', 'c8y', '--offline', '--profile', 'second']), /already connected .*c8y@second-bridge\.conf exists\); check it with: tedge connect c8y --profile second --test, or run: tedge disconnect c8y --profile second/);
    // The default connection is another connection.
    assert.equal((await tedge(['connect', 'c8y', '--offline'])).code, 0);
    const off = await tedge(['disconnect', 'c8y', '--profile', 'second']);
    assert.equal(off.code, 0, off.err);
    assert.equal(existsSync(join(dir, 'mosquitto-conf', 'c8y@second-bridge.conf')), false);
    assert.ok(existsSync(join(dir, 'mosquitto-conf', 'c8y-bridge.conf')));
    assert.deepEqual(calls().slice(-2), ['stop tedge-mapper-c8y@second', 'disable tedge-mapper-c8y@second']);
  });

  it('the mosquitto bridge of a profile has its own connection name, local client id and prefix', async () => {
    assert.equal((await tedge(['config', 'set', 'mqtt.bridge.built_in', 'false'])).code, 0);
    assert.equal((await tedge(['connect', 'c8y', '--offline', '--profile', 'second'])).code, 0);
    const conf = readFileSync(join(dir, 'mosquitto-conf', 'c8y@second-bridge.conf'), 'utf8');
    assert.match(conf, /^connection edge_to_c8y@second$/m);
    assert.match(conf, /^local_clientid Cumulocity@second$/m);
    assert.match(conf, /^address second\.example\.com:8883$/m);
    assert.match(conf, /^topic s\/us\/# out 1 c8y-second\/ ""$/m);
    assert.match(conf, /^notification_topic te\/device\/main\/service\/mosquitto-c8y-second-bridge\/status\/health$/m);
  });

  it('refresh-bridges rewrites the bridge file of a connected profile too', async () => {
    assert.equal((await tedge(['connect', 'c8y', '--offline', '--profile', 'second'])).code, 0);
    assert.equal((await tedge(['config', 'set', 'mqtt.bridge.built_in', 'false'])).code, 0);
    const run = await tedge(['refresh-bridges']);
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /refreshing the bridge to c8y@second: .*c8y@second-bridge\.conf\.\.\. ok \(mosquitto bridge\)/);
    assert.match(readFileSync(join(dir, 'mosquitto-conf', 'c8y@second-bridge.conf'), 'utf8'), /^connection edge_to_c8y@second$/m);
  });

  it('refuses a profile whose bridge prefix is that of another connection, naming it', async () => {
    assert.equal((await tedge(['config', 'unset', 'c8y.bridge.topic_prefix', '--profile', 'second'])).code, 0);
    assertOneErrorLine(await tedge(['connect', 'c8y', '--offline', '--profile', 'second']), /the bridge topic prefix 'c8y' is also that of the default c8y connection \(c8y\.bridge\.topic_prefix\)/);
  });

  it("cert create c8y --profile writes the profile's certificate; its CN is the profile's device id, read-only", async () => {
    const cert = join(dir, 'device-certs', 'second.pem');
    assert.equal((await tedge(['config', 'set', 'c8y.device.cert_path', cert, '--profile', 'second'])).code, 0);
    assert.equal((await tedge(['config', 'set', 'c8y.device.key_path', join(dir, 'device-certs', 'second.key'), '--profile', 'second'])).code, 0);
    const run = await tedge(['cert', 'create', '--device-id', 'dev-second', 'c8y', '--profile', 'second']);
    assert.equal(run.code, 0, run.err);
    assert.ok(existsSync(cert));
    assert.equal((await tedge(['config', 'get', 'c8y.device.id', '--profile', 'second'])).out, 'dev-second\n');
    assert.equal((await tedge(['config', 'get', 'device.id'])).out, 'dev-1\n');
    assert.equal((await tedge(['config', 'get', 'c8y.device.id'])).out, 'dev-1\n');
    assertOneErrorLine(await tedge(['config', 'set', 'c8y.device.id', 'other', '--profile', 'second']), /'c8y\.profiles\.second\.device\.id' is read-only/);
    assert.match((await tedge(['cert', 'show', 'c8y', '--profile', 'second'])).out, /dev-second/);
    assertOneErrorLine(await tedge(['cert', 'show', '--profile', 'second']), /--profile needs a cloud/);
  });
});

describe('tedge config add|remove and types at set time', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tedge-cli-add-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const tedge = (args: readonly string[]): Promise<CliRun> => runTedgeIn(dir, args);

  it('add appends to the effective list, each item once, sorted; remove takes items out', async () => {
    assert.equal((await tedge(['config', 'add', 'az.topics', 'te/+/+/+/+/twin/+'])).code, 0);
    assert.equal((await tedge(['config', 'add', 'az.topics', 'te/+/+/+/+/m/+'])).code, 0);
    assert.equal((await tedge(['config', 'get', 'az.topics'])).out, 'te/+/+/+/+/a/+,te/+/+/+/+/e/+,te/+/+/+/+/m/+,te/+/+/+/+/status/health,te/+/+/+/+/twin/+\n');
    assert.equal((await tedge(['config', 'remove', 'az.topics', 'te/+/+/+/+/a/+,te/+/+/+/+/e/+'])).code, 0);
    assert.equal((await tedge(['config', 'get', 'az.topics'])).out, 'te/+/+/+/+/m/+,te/+/+/+/+/status/health,te/+/+/+/+/twin/+\n');
  });

  it('remove on a key that is not a list unsets it when it holds that value, else leaves it', async () => {
    await tedge(['config', 'set', 'device.type', 'gateway']);
    assert.equal((await tedge(['config', 'remove', 'device.type', 'other'])).code, 0);
    assert.equal((await tedge(['config', 'get', 'device.type'])).out, 'gateway\n');
    assert.equal((await tedge(['config', 'remove', 'device.type', 'gateway'])).code, 0);
    assert.equal((await tedge(['config', 'get', 'device.type'])).out, 'thin-edge.io\n');
    assertOneErrorLine(await tedge(['config', 'add', 'device.type', 'x']), /'device\.type' is not a list: use tedge config set/);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['mqtt.bind.address', 'localhost', /expected an IPv4 or IPv6 address/],
    ['http.bind.address', '1.2.3', /expected an IPv4 or IPv6 address/],
    ['device.cert_path', 'device-certs/cert.pem', /expected an absolute path/],
    ['c8y.auth_method', 'token', /expected one of: certificate, basic, auto/],
    ['c8y.software_management.api', 'new', /expected one of: legacy, advanced/],
    ['service.timestamp_format', 'iso', /expected one of: unix, rfc-3339/],
    ['c8y.availability.interval', 'an hour', /expected a duration/],
    ['c8y.bridge.topic_prefix', 'c8y-internal', /expected one topic level/],
  ];
  for (const [key, value, pattern] of bad) {
    it(`set ${key} '${value}' is refused at set time, and nothing is written`, async () => {
      assertOneErrorLine(await tedge(['config', 'set', key, value]), pattern);
      assert.equal(existsSync(join(dir, 'tedge.ini')), false);
    });
  }

  it('accepts humantime durations and keeps them as written', async () => {
    assert.equal((await tedge(['config', 'set', 'c8y.availability.interval', '1h 30m'])).code, 0);
    assert.equal((await tedge(['config', 'get', 'c8y.availability.interval'])).out, '1h 30m\n');
  });
});
