import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TedgeConfig } from '../../../src/config/tedge-config';
import { builtInScope, splitMapperKey } from '../../../src/flows/mapper-inventory';
import { effectiveValue, readMapperToml, resolveMapperConfig } from '../../../src/flows/user-mapper-config';

describe("a user mapper's mapper.toml, resolved as thin-edge resolves it", () => {
  let root: string;
  let config: TedgeConfig;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'tedge-mapper-toml-'));
    writeFileSync(join(root, 'tedge.toml'), '[device]\nid = "root-id"\ncert_path = "/nowhere/cert.pem"\nkey_path = "/nowhere/key.pem"\n');
    config = TedgeConfig.load(root, {});
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  let n = 0;
  const mapperWith = (toml: string): string => {
    const dir = join(root, 'mappers', `m${n++}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'mapper.toml'), toml);
    return dir;
  };
  const resolved = (toml: string) => {
    const read = readMapperToml(mapperWith(toml));
    assert.ok(read !== undefined);
    return resolveMapperConfig(config, read);
  };

  const cloudTypes: Array<[string, string | undefined | RegExp]> = [
    ['cloud_type = "c8y"\n', 'c8y'],
    ['cloud_type = "az"\n', 'az'],
    ['cloud_type = "aws"\n', 'aws'],
    ['url = "x"\n', undefined],
    ['cloud_type = "thingsboard"\n', /mapper\.toml: cloud_type "thingsboard": expected one of c8y, az, aws/],
    ['cloud_type = 1\n', /cloud_type 1: expected one of/],
  ];
  for (const [toml, expected] of cloudTypes) {
    it(`cloud_type: ${toml.trim()} → ${String(expected)}`, () => {
      const dir = mapperWith(toml);
      if (expected instanceof RegExp) assert.throws(() => readMapperToml(dir), expected);
      else assert.equal(readMapperToml(dir)?.cloudType, expected);
    });
  }

  it('no mapper.toml: undefined', () => assert.equal(readMapperToml(join(root, 'mappers', 'absent')), undefined));

  const resolutions: Array<{ name: string; toml: string; want: Record<string, string | undefined> }> = [
    {
      name: 'auto is certificate without a credentials_path; cert and key from tedge.toml; an unreadable certificate gives no id',
      toml: 'url = "h"\n',
      want: { auth: 'certificate', url: 'h:8883', certPath: '/nowhere/cert.pem', keyPath: '/nowhere/key.pem', rootCertPath: '/etc/ssl/certs', deviceId: undefined },
    },
    {
      name: 'auto is password with a credentials_path: the id is mapper.toml device.id',
      toml: 'url = "h:1883"\ncredentials_path = "c.toml"\n[device]\nid = "own"\n',
      want: { auth: 'password', url: 'h:1883', deviceId: 'own', deviceIdFrom: 'mapper.toml', credentialsPath: '<dir>/c.toml' },
    },
    { name: "password without a device.id: tedge.toml's", toml: 'auth_method = "password"\n', want: { auth: 'password', deviceId: 'root-id', deviceIdFrom: 'tedge.toml', url: undefined } },
    { name: "'basic' is password", toml: 'auth_method = "basic"\ncredentials_path = "/abs/c.toml"\n', want: { auth: 'password', credentialsPath: '/abs/c.toml' } },
    { name: 'relative paths are resolved against the mapper directory', toml: '[device]\ncert_path = "a/../cert.pem"\nroot_cert_path = "ca"\n', want: { certPath: '<dir>/cert.pem', rootCertPath: '<dir>/ca' } },
  ];
  for (const r of resolutions) {
    it(r.name, () => {
      const dir = mapperWith(r.toml);
      const read = readMapperToml(dir);
      assert.ok(read !== undefined);
      const e = resolveMapperConfig(config, read);
      const got: Record<string, string | undefined> = {
        auth: e.auth.value,
        url: e.url?.value,
        certPath: e.certPath?.value,
        keyPath: e.keyPath?.value,
        rootCertPath: e.rootCertPath.value,
        credentialsPath: e.credentialsPath?.value,
        deviceId: e.deviceId?.value,
        deviceIdFrom: e.deviceId?.source.tag,
      };
      for (const [k, v] of Object.entries(r.want)) assert.equal(got[k], v?.replace('<dir>', dir), k);
    });
  }

  const refused: Array<[string, RegExp]> = [
    ['auth_method = "token"\n', /auth_method 'token': expected auto, certificate or password/],
    ['url = "https://x/y"\n', /url 'https:\/\/x\/y' is not host or host:port/],
    ['[device]\nid = 7\n', /device\.id must be a string/],
  ];
  for (const [toml, message] of refused) it(`refuses ${toml.trim()}`, () => assert.throws(() => resolved(toml), message));

  const keys: Array<[string, string]> = [
    ['bridge.topic_prefix', 'tb'],
    ['bridge.keepalive_interval', 'not set'],
    ['bridge.nothing', 'unknown'],
    ['device.id', 'not set'],
    ['bridge.tls.enable', 'auto'],
  ];
  for (const [key, want] of keys) {
    it(`effective value of ${key}: ${want}`, () => {
      const got = effectiveValue(resolved('[bridge]\ntopic_prefix = "tb"\n'), key);
      assert.equal(typeof got === 'string' ? got : got.value, want);
    });
  }
});

describe('mapper names in `tedge mapper config get <mapper>.<key>`', () => {
  const splits: Array<[string, readonly string[], [string, string] | undefined]> = [
    ['tb.url', ['tb'], ['tb', 'url']],
    ['tb.device.cert_path', ['tb'], ['tb', 'device.cert_path']],
    ['c8y.new.url', ['c8y', 'c8y.new'], ['c8y.new', 'url']],
    ['c8y.new.device.id', ['c8y', 'c8y.new'], ['c8y.new', 'device.id']],
    ['c8y.bridge.topic_prefix', ['c8y'], ['c8y', 'bridge.topic_prefix']],
    ['unknown.device.cert_path', ['c8y'], ['unknown', 'device.cert_path']],
    ['tb', ['tb'], undefined],
  ];
  for (const [text, known, want] of splits) {
    it(`${text} with ${known.join(',')} → ${String(want)}`, () => {
      const got = splitMapperKey(text, known);
      assert.deepEqual(got === undefined ? undefined : [got.mapper, got.key], want);
    });
  }

  const scopes: Array<[string, string | undefined]> = [
    ['c8y', 'c8y/'],
    ['az.staging', 'az/staging'],
    ['aws.Prod', 'aws/prod'],
    ['tb', undefined],
    ['collectd', undefined],
    ['c8y.a.b', undefined],
  ];
  for (const [name, want] of scopes) {
    it(`${name} is ${want === undefined ? 'not a built-in cloud' : `the built-in ${want}`}`, () => {
      const s = builtInScope(name);
      assert.equal(s === undefined ? undefined : `${s.cloud}/${s.profile ?? ''}`, want);
    });
  }
});
