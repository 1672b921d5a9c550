import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { parseIniFile } from '../../../src/config/ini-file';
import { CONFIG_KEYS, type ConfigKey } from '../../../src/config/keys';
import { TedgeConfig } from '../../../src/config/tedge-config';

describe('tedge.ini, read line by line', () => {
  const cases: Array<{ name: string; text: string; values?: Record<string, string>; error?: RegExp }> = [
    { name: 'sections give dotted keys', text: '[c8y]\nurl = example.com\n[c8y.smartrest]\nuse_operation_id = false\n', values: { 'c8y.url': 'example.com', 'c8y.smartrest.use_operation_id': 'false' } },
    {
      name: 'a parent section after a child section keeps both',
      text: '[c8y.smartrest.child_device]\ncreate_with_device_marker = true\n[c8y.smartrest]\nuse_operation_id = false\n',
      values: { 'c8y.smartrest.child_device.create_with_device_marker': 'true', 'c8y.smartrest.use_operation_id': 'false' },
    },
    { name: 'comments and blank lines', text: '; comment\n# another\n\n[device]\n  id = d1  \n', values: { 'device.id': 'd1' } },
    { name: 'quoted values are unquoted', text: '[c8y]\ntopics = "te/+/+/+/+,te/#"\n', values: { 'c8y.topics': 'te/+/+/+/+,te/#' } },
    { name: 'a key before any section', text: 'loose = 1\n', values: { loose: '1' } },
    { name: 'a garbage line names file and line', text: '[c8y]\nurl = x\nthis is not ini\n', error: /tedge\.ini:3: cannot parse 'this is not ini': expected \[section\] or key = value/ },
    { name: 'a line without a key', text: '[c8y]\n= x\n', error: /tedge\.ini:2: cannot parse/ },
    { name: 'an empty section', text: '[]\n', error: /tedge\.ini:1: empty section name/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (c.error) {
        assert.throws(() => parseIniFile('/etc/tedge/tedge.ini', c.text), c.error);
        return;
      }
      const got = Object.fromEntries([...parseIniFile('/etc/tedge/tedge.ini', c.text)].map(([k, v]) => [k, v.text]));
      assert.deepEqual(got, c.values);
    });
  }
});

describe('tedge config set, then read back', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tedge-ini-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Keys whose values any string-ish sample fits: booleans and strings of the table. */
  const booleanKeys = (Object.keys(CONFIG_KEYS) as ConfigKey[]).filter((k) => CONFIG_KEYS[k].type === 'boolean');

  it('keeps every key, whatever the order they were set in (200 random runs)', () => {
    let seed = 12345;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let run = 0; run < 200; run++) {
      rmSync(join(dir, 'tedge.ini'), { force: true });
      const chosen = booleanKeys.filter(() => random() < 0.3).sort(() => random() - 0.5);
      const expected = new Map<ConfigKey, string>();
      for (const key of chosen) {
        const value = random() < 0.5 ? 'true' : 'false';
        TedgeConfig.load(dir).set(key, value);
        expected.set(key, value);
      }
      const config = TedgeConfig.load(dir);
      for (const [key, value] of expected) assert.equal(config.text(key), value, `run ${run}: ${key} after setting ${chosen.join(', ')}`);
    }
  });

  it('the reported case: a child section key survives setting its parent section key', () => {
    TedgeConfig.load(dir).set('c8y.smartrest.child_device.create_with_device_marker', 'true');
    TedgeConfig.load(dir).set('c8y.smartrest.use_operation_id', 'false');
    const config = TedgeConfig.load(dir);
    assert.equal(config.text('c8y.smartrest.child_device.create_with_device_marker'), 'true');
    assert.equal(config.text('c8y.smartrest.use_operation_id'), 'false');
  });

  it('names file and line of a bad value, warns about an unknown key and keeps it in the file', () => {
    writeFileSync(join(dir, 'tedge.ini'), '[mqtt.bridge.outbox]\nfsync = always\nmax_bytes = lots\n[c8y]\nulr = typo.example.com\n');
    const config = TedgeConfig.load(dir);
    assert.throws(() => config.number('mqtt.bridge.outbox.max_bytes'), new RegExp(`${dir}/tedge.ini:3: invalid value 'lots' for 'mqtt.bridge.outbox.max_bytes'`));
    assert.deepEqual(config.warnings, [`${dir}/tedge.ini:5: unknown configuration key 'c8y.ulr' (ignored; see: tedge config list --doc)`]);
    config.set('device.type', 'gateway');
    assert.deepEqual(TedgeConfig.load(dir).warnings.map((w) => w.replace(/:\d+:/, ':N:')), [`${dir}/tedge.ini:N: unknown configuration key 'c8y.ulr' (ignored; see: tedge config list --doc)`]);
  });

  it('names the environment variable of a bad value', () => {
    const config = TedgeConfig.load(dir, { TEDGE_MQTT_CLIENT_PORT: 'eighty' });
    assert.throws(() => config.number('mqtt.client.port'), /^TedgeError: TEDGE_MQTT_CLIENT_PORT: invalid value 'eighty'/);
  });

  it('a device certificate that cannot be read is named, not reported as a missing device.id', () => {
    const certs = join(dir, 'device-certs');
    mkdirSync(certs);
    writeFileSync(join(certs, 'tedge-certificate.pem'), '-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n');
    assert.throws(() => TedgeConfig.load(dir).deviceId(), /the device certificate .*tedge-certificate\.pem cannot be used: .*device\.id is its CN/);
    rmSync(join(certs, 'tedge-certificate.pem'));
    assert.throws(() => TedgeConfig.load(dir).deviceId(), /'device.id' is not set/);
  });
});
