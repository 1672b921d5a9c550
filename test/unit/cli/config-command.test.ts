import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CONFIG_KEYS, type ConfigKey, envName } from '../../../src/config/keys';
import { runTedge } from '../../../src/cli/program';
import { type CliRun, assertOneErrorLine, runTedgeIn } from '../../helpers/cli-run';

type Run = CliRun;

/** Runs `tedge --config-dir <dir> ...args` in-process, as bin does, and captures both streams. */
function tedge(dir: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return runTedgeIn(dir, args, { env });
}

describe('tedge config', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-cli-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const roundTrips: Array<[ConfigKey, string, string]> = [
    ['c8y.url', 'example.cumulocity.com', 'example.cumulocity.com'],
    ['device.type', 'gateway', 'gateway'],
    ['mqtt.bind.port', '2883', '2883'],
    ['c8y.enable.log_upload', 'false', 'false'],
    ['c8y.mapper.mqtt.max_payload_size', '1024', '1024'],
    ['c8y.topics', 'te/+/+/+/+/m/+, te/+/+/+/+/e/+', 'te/+/+/+/+/m/+,te/+/+/+/+/e/+'],
    ['mqtt.bridge.reconnect_policy.initial_interval', '10s', '10s'],
    ['mqtt.device_topic_id', 'device/child1//', 'device/child1//'],
  ];
  for (const [key, value, expected] of roundTrips) {
    it(`set ${key} ${value} then get prints ${expected}`, async () => {
      assert.deepEqual(await tedge(dir, ['config', 'set', key, value]), { code: 0, out: '', err: '' });
      assert.deepEqual(await tedge(dir, ['config', 'get', key]), { code: 0, out: `${expected}\n`, err: '' });
    });
  }

  it('writes an INI file with one section per key prefix', async () => {
    await tedge(dir, ['config', 'set', 'c8y.url', 'example.cumulocity.com']);
    await tedge(dir, ['config', 'set', 'mqtt.bind.port', '2883']);
    const text = readFileSync(join(dir, 'tedge.ini'), 'utf8');
    assert.match(text, /^\[c8y\]\nurl = example\.cumulocity\.com\n/m);
    assert.match(text, /^\[mqtt\.bind\]\nport = 2883\n/m);
  });

  it('unset removes the file value and the default applies again', async () => {
    await tedge(dir, ['config', 'set', 'device.type', 'gateway']);
    assert.equal((await tedge(dir, ['config', 'unset', 'device.type'])).code, 0);
    assert.equal((await tedge(dir, ['config', 'get', 'device.type'])).out, 'thin-edge.io\n');
    assert.doesNotMatch(readFileSync(join(dir, 'tedge.ini'), 'utf8'), /gateway/);
  });

  const defaults: Array<[string, Array<[ConfigKey, string]>, ConfigKey, string]> = [
    ['device.type defaults to thin-edge.io', [], 'device.type', 'thin-edge.io'],
    ['mqtt.client.port follows the default mqtt.bind.port', [], 'mqtt.client.port', '1883'],
    ['mqtt.client.port follows a set mqtt.bind.port', [['mqtt.bind.port', '2883']], 'mqtt.client.port', '2883'],
    ['c8y.mqtt is derived from c8y.url as host:8883', [['c8y.url', 'example.cumulocity.com']], 'c8y.mqtt', 'example.cumulocity.com:8883'],
    ['c8y.mqtt drops the scheme and path of c8y.url', [['c8y.url', 'https://t1.example.com/x']], 'c8y.mqtt', 't1.example.com:8883'],
    ['c8y.http is derived from c8y.url as host:443', [['c8y.url', 'example.cumulocity.com']], 'c8y.http', 'example.cumulocity.com:443'],
    ['an explicit c8y.mqtt wins over the derived one', [['c8y.url', 'a.example.com'], ['c8y.mqtt', 'mqtt.example.com:1884']], 'c8y.mqtt', 'mqtt.example.com:1884'],
  ];
  for (const [name, sets, key, expected] of defaults) {
    it(name, async () => {
      for (const [k, v] of sets) assert.equal((await tedge(dir, ['config', 'set', k, v])).code, 0);
      assert.deepEqual(await tedge(dir, ['config', 'get', key]), { code: 0, out: `${expected}\n`, err: '' });
    });
  }

  it('device.cert_path defaults into the config dir', async () => {
    assert.equal((await tedge(dir, ['config', 'get', 'device.cert_path'])).out, `${join(dir, 'device-certs', 'tedge-certificate.pem')}\n`);
  });

  it('TEDGE_C8Y_URL overrides the file, and the derived c8y.mqtt follows it', async () => {
    await tedge(dir, ['config', 'set', 'c8y.url', 'file.example.com']);
    const env = { TEDGE_C8Y_URL: 'env.example.com' };
    assert.equal((await tedge(dir, ['config', 'get', 'c8y.url'], env)).out, 'env.example.com\n');
    assert.equal((await tedge(dir, ['config', 'get', 'c8y.mqtt'], env)).out, 'env.example.com:8883\n');
    assert.equal((await tedge(dir, ['config', 'get', 'c8y.url'])).out, 'file.example.com\n');
  });

  it('TEDGE_CONFIG_DIR selects the config dir when --config-dir is absent', async () => {
    await tedge(dir, ['config', 'set', 'device.type', 'from-env-dir']);
    let out = '';
    const code = await runTedge(['config', 'get', 'device.type'], { out: (s) => (out += s), err: () => {}, env: { TEDGE_CONFIG_DIR: dir }, version: '0' });
    assert.deepEqual({ code, out }, { code: 0, out: 'from-env-dir\n' });
  });

  const invalid: Array<[ConfigKey, string, RegExp]> = [
    ['c8y.mapper.mqtt.max_payload_size', 'big', /'c8y\.mapper\.mqtt\.max_payload_size'.*expected an integer/],
    ['c8y.enable.log_upload', 'yes', /'c8y\.enable\.log_upload'.*expected true or false/],
    ['mqtt.bind.port', '70000', /'mqtt\.bind\.port'.*expected a port number/],
    ['mqtt.bind.port', 'abc', /'mqtt\.bind\.port'.*expected a port number/],
    ['certificate.validity.requested_duration', 'soon', /'certificate\.validity\.requested_duration'.*expected a duration/],
    ['mqtt.device_topic_id', 'device/main', /'mqtt\.device_topic_id'.*expected an entity topic id/],
    ['c8y.mqtt', 'no-port', /'c8y\.mqtt'.*expected HOST:PORT/],
  ];
  for (const [key, value, pattern] of invalid) {
    it(`set ${key} ${value} fails with one line naming the key and the expected kind`, async () => {
      const run = await tedge(dir, ['config', 'set', key, value]);
      assert.equal(run.code, 1);
      assertOneErrorLine(run, pattern);
      assert.equal(existsSync(join(dir, 'tedge.ini')), false, 'nothing written');
    });
  }

  for (const args of [['get', 'no.such.key'], ['set', 'no.such.key', 'x'], ['unset', 'no.such.key']]) {
    it(`config ${args[0]} of an unknown key is a usage error (2)`, async () => {
      const run = await tedge(dir, ['config', ...args]);
      assert.equal(run.code, 2);
      assertOneErrorLine(run, /unknown configuration key: 'no\.such\.key'/);
    });
  }

  it('get of a key with no value and no default fails (1) and says how to set it', async () => {
    const run = await tedge(dir, ['config', 'get', 'c8y.url']);
    assert.equal(run.code, 1);
    assert.equal(run.out, '');
    assertOneErrorLine(run, /'c8y\.url' is not set.*tedge config set c8y\.url/);
  });

  it('list prints key=value for keys with a value, defaults included, in table order', async () => {
    await tedge(dir, ['config', 'set', 'device.type', 'gateway']);
    const run = await tedge(dir, ['config', 'list']);
    assert.equal(run.code, 0);
    const lines = run.out.trimEnd().split('\n');
    assert.ok(lines.includes('device.type=gateway'));
    assert.ok(lines.includes('mqtt.client.port=1883'));
    assert.ok(!lines.some((l) => l.startsWith('c8y.url=')), 'c8y.url has no value');
    assert.ok(!lines.some((l) => l.startsWith('c8y.mqtt=')), 'c8y.mqtt has nothing to derive from');
    for (const l of lines) assert.match(l, /^[a-z0-9_.]+=.+$/);
    const keys = lines.map((l) => l.slice(0, l.indexOf('=')));
    const order = Object.keys(CONFIG_KEYS);
    assert.deepEqual(keys, [...keys].sort((a, b) => order.indexOf(a) - order.indexOf(b)));
  });

  it('list --all also prints keys without a value, as key=', async () => {
    const run = await tedge(dir, ['config', 'list', '--all']);
    const lines = run.out.trimEnd().split('\n');
    assert.ok(lines.includes('c8y.url='));
    assert.equal(lines.length, Object.keys(CONFIG_KEYS).length);
  });

  it('list FILTER keeps only keys containing the filter', async () => {
    const run = await tedge(dir, ['config', 'list', 'mqtt.bind']);
    assert.deepEqual(run.out.trimEnd().split('\n'), ['mqtt.bind.address=127.0.0.1', 'mqtt.bind.port=1883', 'mqtt.bind.enabled=true']);
  });

  it('list --doc documents every key with its type and env variable', async () => {
    const run = await tedge(dir, ['config', 'list', '--doc']);
    assert.equal(run.code, 0);
    for (const [key, def] of Object.entries(CONFIG_KEYS) as Array<[ConfigKey, (typeof CONFIG_KEYS)[ConfigKey]]>) {
      assert.match(run.out, new RegExp(`^${key.replace(/\./g, '\\.')}\\n    ${escape(def.doc)}\\n    type: ${def.type}( \\([^)]*\\))?;.*env: ${envName(key)}$`, 'm'), key);
    }
    assert.match(run.out, /^mqtt\.bind\.port\n.*\n    type: port; default: 1883; env: TEDGE_MQTT_BIND_PORT$/m);
    assert.match(run.out, /^c8y\.mqtt\n.*\n    type: host-port; default: <c8y\.url>:8883; env: TEDGE_C8Y_MQTT$/m);
    assert.match(run.out, /^c8y\.url\n.*\n    type: url; example: example\.cumulocity\.com; env: TEDGE_C8Y_URL$/m);
  });

  describe('device.id', () => {
    it('can be set while no certificate exists', async () => {
      assert.equal((await tedge(dir, ['config', 'set', 'device.id', 'my-device'])).code, 0);
      assert.equal((await tedge(dir, ['config', 'get', 'device.id'])).out, 'my-device\n');
    });

    it('is the certificate CN and read-only once the certificate exists', async () => {
      await tedge(dir, ['config', 'set', 'device.id', 'old-id']);
      const certs = join(dir, 'device-certs');
      mkdirSync(certs);
      // A real self-signed certificate, as `tedge cert create` makes one.
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=dev-1', '-days', '1', '-keyout', join(certs, 'tedge-private-key.pem'), '-out', join(certs, 'tedge-certificate.pem')], { stdio: 'ignore' });
      assert.deepEqual(await tedge(dir, ['config', 'get', 'device.id']), { code: 0, out: 'dev-1\n', err: '' });
      const run = await tedge(dir, ['config', 'set', 'device.id', 'other']);
      assert.equal(run.code, 1);
      assertOneErrorLine(run, /'device\.id' is read-only/);
      assert.equal((await tedge(dir, ['config', 'get', 'device.id'])).out, 'dev-1\n');
    });
  });
});

describe('tedge program', () => {
  const dir = '/nonexistent-tedge-config-dir';

  it('-V and --version print `tedge <version>` as thin-edge', async () => {
    assert.deepEqual(await tedge(dir, ['-V']), { code: 0, out: 'tedge 9.9.9\n', err: '' });
    assert.deepEqual(await tedge(dir, ['--version']), { code: 0, out: 'tedge 9.9.9\n', err: '' });
  });

  it('--help exits 0 and lists the command groups', async () => {
    const run = await tedge(dir, ['--help']);
    assert.equal(run.code, 0);
    assert.match(run.out, /config/);
    assert.match(run.out, /mqtt/);
  });

  const usage: Array<[string, string[], RegExp]> = [
    ['an unknown command', ['confg'], /unknown command 'confg'/],
    ['an unknown option', ['config', 'list', '--everything'], /unknown option '--everything'/],
    ['a missing argument', ['config', 'set', 'c8y.url'], /missing required argument 'value'/],
    ['a bad --log-level', ['--log-level', 'loud', 'config', 'list'], /--log-level.*loud/],
  ];
  for (const [name, args, pattern] of usage) {
    it(`${name} is a usage error (2) with an error line`, async () => {
      const run = await tedge(dir, args);
      assert.equal(run.code, 2);
      assert.match(run.err, /^error: /);
      assert.match(run.err, pattern);
    });
  }

  it('a group without a subcommand shows its help on stderr and exits 2', async () => {
    const run = await tedge(dir, ['config']);
    assert.equal(run.code, 2);
    assert.match(run.err, /Usage: tedge config/);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
