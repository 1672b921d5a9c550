import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { TedgeConfig } from '../../../src/config/tedge-config';
import { parseToml } from '../../../src/config/toml';
import { assertOneErrorLine, runTedgeIn } from '../../helpers/cli-run';
import { REPO_ROOT } from '../../helpers/paths';

/** A tedge.toml as thin-edge.io writes it: nested tables, TOML integers, booleans and arrays, a cloud profile. */
const FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'thin-edge-config', 'tedge.toml');

describe("thin-edge.io's tedge.toml", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-toml-'));
    copyFileSync(FIXTURE, join(dir, 'tedge.toml'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const reads: Array<[readonly string[], string]> = [
    [['c8y.url'], 'example.cumulocity.com'],
    [['device.cert_path'], '/etc/tedge/device-certs/tedge-certificate.pem'],
    [['mqtt.bind.port'], '1884'],
    [['mqtt.client.port'], '1884'],
    [['c8y.mqtt'], 'example.cumulocity.com:8883'],
    [['c8y.smartrest.use_operation_id'], 'false'],
    [['c8y.smartrest.child_device.create_with_device_marker'], 'true'],
    [['c8y.topics'], 'te/+/+/+/+,te/+/+/+/+/twin/+,te/+/+/+/+/m/+,te/+/+/+/+/e/+,te/+/+/+/+/a/+,te/+/+/+/+/status/health'],
    [['c8y.availability.interval'], '1h 30m'],
    [['sudo.enable'], 'false'],
    [['c8y.url', '--profile', 'second'], 'second.cumulocity.com'],
    [['c8y.profiles.second.bridge.topic_prefix'], 'c8y-second'],
    [['c8y.bridge.topic_prefix', '--profile', 'second'], 'c8y-second'],
    [['c8y.proxy.client.port', '--profile', 'second'], '8002'],
  ];
  for (const [args, expected] of reads) {
    it(`tedge config get ${args.join(' ')} reads ${expected} from it`, async () => {
      const run = await runTedgeIn(dir, ['config', 'get', ...args]);
      assert.equal(run.out, `${expected}\n`);
      assert.equal(run.code, 0);
    });
  }

  it('get names tedge.toml on stderr when the value comes from it, not for a default', async () => {
    assert.equal((await runTedgeIn(dir, ['config', 'get', 'c8y.url'])).err, `(from ${join(dir, 'tedge.toml')})\n`);
    assert.equal((await runTedgeIn(dir, ['config', 'get', 'device.type'])).err, `(from ${join(dir, 'tedge.toml')})\n`);
    assert.equal((await runTedgeIn(dir, ['config', 'get', 'az.bridge.topic_prefix'])).err, '');
  });

  it('list names the file on stderr and lists the profile keys by their names', async () => {
    const run = await runTedgeIn(dir, ['config', 'list']);
    assert.equal(run.err, `# ${join(dir, 'tedge.toml')} (thin-edge.io's tedge.toml)\n`);
    assert.match(run.out, /^c8y\.url=example\.cumulocity\.com$/m);
    assert.match(run.out, /^c8y\.profiles\.second\.url=second\.cumulocity\.com$/m);
    assert.match(run.out, /^c8y\.profiles\.second\.mqtt=second\.cumulocity\.com:8883$/m);
    const only = await runTedgeIn(dir, ['config', 'list', '--profile', 'second']);
    assert.ok(only.out.split('\n').filter((l) => l !== '').every((l) => l.startsWith('c8y.profiles.second.')), only.out);
  });

  it('set writes tedge.toml with TOML types, keeps the keys it does not know, and creates no tedge.ini', async () => {
    assert.equal((await runTedgeIn(dir, ['config', 'set', 'mqtt.bind.port', '1885'])).code, 0);
    assert.equal((await runTedgeIn(dir, ['config', 'set', 'c8y.url', 'third.cumulocity.com', '--profile', 'third'])).code, 0);
    assert.equal((await runTedgeIn(dir, ['config', 'add', 'c8y.topics', 'te/+/+/+/+/m/+/meta'])).code, 0);
    assert.equal((await runTedgeIn(dir, ['config', 'unset', 'sudo.enable'])).code, 0);
    assert.equal(existsSync(join(dir, 'tedge.ini')), false);
    const doc = parseToml(readFileSync(join(dir, 'tedge.toml'), 'utf8'), 'tedge.toml') as any;
    assert.equal(doc.mqtt.bind.port, 1885);
    assert.equal(doc.mqtt.bind.address, '127.0.0.1');
    assert.equal(doc.device.cryptoki.mode, 'off');
    assert.equal(doc.c8y.profiles.second.proxy.bind.port, 8002);
    assert.equal(doc.c8y.profiles.third.url, 'third.cumulocity.com');
    assert.equal(doc.sudo, undefined);
    assert.ok(Array.isArray(doc.c8y.topics) && doc.c8y.topics.includes('te/+/+/+/+/m/+/meta'));
    assert.equal((await runTedgeIn(dir, ['config', 'get', 'mqtt.bind.port'])).out, '1885\n');
  });

  it('warns about a thin-edge key of a feature we lack, naming the file and the feature, and still reads the others', async () => {
    const run = await runTedgeIn(dir, ['config', 'get', 'c8y.url']);
    assert.equal(run.code, 0);
    // Warnings are for daemons' logs; the CLI's get stays quiet. The key is reported by the loader.
    assert.deepEqual(TedgeConfig.load(dir).warnings, [`${join(dir, 'tedge.toml')}: 'device.cryptoki.mode' is ignored: tedge-ts does not have private keys in an HSM (PKCS#11)`]);
    assertOneErrorLine(await runTedgeIn(dir, ['config', 'get', 'device.cryptoki.mode']), /'device\.cryptoki\.mode' is a thin-edge\.io key of a feature tedge-ts does not have: private keys in an HSM/);
    assertOneErrorLine(await runTedgeIn(dir, ['config', 'set', 'c8y.smartrest.templates', 'a,b']), /feature tedge-ts does not have: custom SmartREST templates/);
    assertOneErrorLine(await runTedgeIn(dir, ['config', 'get', 'c8y.nonsense']), /unknown configuration key: 'c8y\.nonsense'/);
  });

  it('refuses a directory holding both tedge.ini and tedge.toml, naming both, in one line', async () => {
    writeFileSync(join(dir, 'tedge.ini'), '[c8y]\nurl = other.cumulocity.com\n');
    const run = await runTedgeIn(dir, ['config', 'get', 'c8y.url']);
    assert.notEqual(run.code, 0);
    assert.equal(run.out, '');
    assertOneErrorLine(run, new RegExp(`both ${join(dir, 'tedge.ini')} and ${join(dir, 'tedge.toml')} exist`));
  });

  it("a tedge.ini holding only comments (the package's) does not hide tedge.toml, and convert-toml replaces it", async () => {
    writeFileSync(join(dir, 'tedge.ini'), '; tedge-ts configuration\n; Set values with `tedge config set KEY VALUE`\n');
    assert.equal((await runTedgeIn(dir, ['config', 'get', 'c8y.url'])).out, 'example.cumulocity.com\n');
    assert.equal((await runTedgeIn(dir, ['config', 'convert-toml'])).code, 0);
    assert.equal((await runTedgeIn(dir, ['config', 'get', 'c8y.url'])).out, 'example.cumulocity.com\n');
    assert.equal(existsSync(join(dir, 'tedge.toml')), false);
  });

  it('convert-toml writes tedge.ini with the same values and renames tedge.toml', async () => {
    const before = (await runTedgeIn(dir, ['config', 'list'])).out;
    const run = await runTedgeIn(dir, ['config', 'convert-toml']);
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /written to .*tedge\.ini; .*tedge\.toml renamed .*tedge\.toml\.converted/);
    assert.equal(existsSync(join(dir, 'tedge.toml')), false);
    assert.ok(existsSync(join(dir, 'tedge.toml.converted')));
    const after = await runTedgeIn(dir, ['config', 'list']);
    assert.equal(after.out, before);
    assert.equal(after.err, `# ${join(dir, 'tedge.ini')}\n`);
    assert.match(readFileSync(join(dir, 'tedge.ini'), 'utf8'), /^\[device\.cryptoki\]\nmode = off$/m);
    // A second conversion has nothing to convert.
    assertOneErrorLine(await runTedgeIn(dir, ['config', 'convert-toml']), /there is no .*tedge\.toml to convert/);
  });

  it('a TOML syntax error names the file and the line', async () => {
    writeFileSync(join(dir, 'tedge.toml'), '[c8y]\nurl = "a"\nbroken =\n');
    assertOneErrorLine(await runTedgeIn(dir, ['config', 'get', 'c8y.url']), /invalid TOML in .*tedge\.toml \(line 3/);
  });

  it("thin-edge 2.x's mappers/<cloud>[.<profile>]/mapper.toml win over tedge.toml's cloud tables (warned), and are not written", async () => {
    mkdirSync(join(dir, 'mappers', 'c8y'), { recursive: true });
    mkdirSync(join(dir, 'mappers', 'c8y.third'), { recursive: true });
    mkdirSync(join(dir, 'mappers', 'local', 'flows'), { recursive: true });
    writeFileSync(join(dir, 'mappers', 'c8y', 'mapper.toml'), 'cloud_type = "c8y"\nurl = "migrated.cumulocity.com"\n[bridge]\ntopic_prefix = "c8y"\n');
    writeFileSync(join(dir, 'mappers', 'c8y.third', 'mapper.toml'), 'cloud_type = "c8y"\nurl = "third.cumulocity.com"\n');
    assert.equal((await runTedgeIn(dir, ['config', 'get', 'c8y.url'])).out, 'migrated.cumulocity.com\n');
    // tedge.toml's [c8y] is ignored as a whole, as thin-edge does once the mapper file exists; its profiles are separate.
    assert.equal((await runTedgeIn(dir, ['config', 'get', 'c8y.smartrest.use_operation_id'])).out, 'true\n');
    assert.equal((await runTedgeIn(dir, ['config', 'get', 'c8y.url', '--profile', 'third'])).out, 'third.cumulocity.com\n');
    assert.equal((await runTedgeIn(dir, ['config', 'get', 'c8y.url', '--profile', 'second'])).out, 'second.cumulocity.com\n');
    assert.ok(TedgeConfig.load(dir).warnings.includes(`${join(dir, 'tedge.toml')}: its c8y.* settings are ignored: ${join(dir, 'mappers', 'c8y', 'mapper.toml')} holds them (thin-edge 2.x mapper configuration)`));
    assertOneErrorLine(await runTedgeIn(dir, ['config', 'set', 'c8y.url', 'x.example.com']), /'c8y\.url' is read from .*mappers\/c8y\/mapper\.toml .* edit that file/);
    assert.equal((await runTedgeIn(dir, ['config', 'set', 'c8y.url', 'x.example.com', '--profile', 'second'])).code, 0);
  });
});
