import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertOneErrorLine, runTedgeIn } from '../../helpers/cli-run';

/** A device with a certificate (CN main-cn), a c8y url, and mappers of every kind under mappers/. */
function device(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tedge-mapper-cli-'));
  const mapper = (name: string, toml?: string): string => {
    const d = join(dir, 'mappers', name);
    mkdirSync(d, { recursive: true });
    if (toml !== undefined) writeFileSync(join(d, 'mapper.toml'), toml);
    return d;
  };
  writeFileSync(join(dir, 'tedge.toml'), '[c8y]\nurl = "tenant.c8y.example"\n[az]\n[az.profiles.staging]\nurl = "hub.example:8884"\n');
  mapper('tb', 'url = "mqtt.tb.example"\n[device]\ncert_path = "cert.pem"\nkey_path = "key.pem"\n[bridge]\ntopic_prefix = "v1/devices/me"\nitems = ["a", "b"]\n');
  mapper('pw', 'url = "broker.example:1883"\ncloud_type = "c8y"\ncredentials_path = "creds.toml"\n[device]\nid = "pw-device"\n');
  mapper('inherit', 'url = "inherit.example:8883"\n');
  mapper('bad', 'cloud_type = "thingsboard"\nurl = "x.example"\n');
  mapper('flows-only');
  mkdirSync(join(dir, 'mappers', 'flows-only', 'flows'));
  mapper('c8y');
  mapper('az.staging');
  mapper('aws');
  mkdirSync(join(mapper('nobridge'), 'bridge'));
  return dir;
}

describe('tedge mapper list | config get', () => {
  let dir: string;
  before(async () => {
    dir = device();
    assert.equal((await runTedgeIn(dir, ['cert', 'create', '--device-id', 'main-cn'])).code, 0);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('list: one line per directory, sorted: name, url, device id [source], cloud_type; the name alone when nothing is known', async () => {
    const run = await runTedgeIn(dir, ['mapper', 'list']);
    assert.equal(run.code, 0, run.err);
    assert.equal(
      run.out,
      [
        'aws',
        'az.staging\thub.example:8884\tmain-cn [cert CN]\taz',
        'bad',
        'c8y\ttenant.c8y.example:8883\tmain-cn [cert CN]\tc8y',
        'flows-only',
        // No certificate of its own: tedge.toml's, and its CN.
        'inherit\tinherit.example:8883\tmain-cn [cert CN]\t',
        'nobridge',
        // Password authentication (a credentials_path): the id is mapper.toml's.
        'pw\tbroker.example:1883\tpw-device [mapper.toml]\tc8y',
        // Its own certificate cannot be read: no id is shown rather than a wrong one.
        'tb\tmqtt.tb.example:8883\t\t',
        '',
      ].join('\n'),
    );
    assert.match(run.err, /mapper 'bad': .*mappers\/bad\/mapper\.toml: cloud_type "thingsboard": expected one of c8y, az, aws/);
    assert.match(run.err, /mapper 'nobridge' has a bridge\/ but no mapper\.toml/);
  });

  it('list with no mapper directory says so on stderr and succeeds', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'tedge-mapper-cli-empty-'));
    try {
      const run = await runTedgeIn(empty, ['mapper', 'list']);
      assert.deepEqual(run, { code: 0, out: '', err: `No mappers found under '${join(empty, 'mappers')}'\n` });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  const values: Array<[string, string, string]> = [
    ['tb.url', 'mqtt.tb.example:8883', '# from mapper.toml'],
    ['tb.device.cert_path', '<dir>/mappers/tb/cert.pem', "# relative path 'cert.pem' in mapper.toml, made absolute"],
    ['tb.bridge.topic_prefix', 'v1/devices/me', '# from mapper.toml'],
    ['tb.bridge.items', '["a","b"]', '# from mapper.toml'],
    ['tb.bridge.tls.enable', 'auto', '# default value'],
    ['tb.auth_method', 'certificate', '# default value'],
    ['tb.device.root_cert_path', '/etc/ssl/certs', '# default value'],
    ['pw.auth_method', 'password', '# default value'],
    ['pw.device.id', 'pw-device', '# from mapper.toml'],
    ['pw.credentials_path', '<dir>/mappers/pw/creds.toml', "# relative path 'creds.toml' in mapper.toml, made absolute"],
    ['inherit.device.cert_path', '<dir>/device-certs/tedge-certificate.pem', '# not in mapper.toml, taken from tedge.toml'],
    ['inherit.device.id', 'main-cn', '# the CN of the certificate <dir>/device-certs/tedge-certificate.pem'],
    ['c8y.url', 'tenant.c8y.example:8883', '# not in mapper.toml, taken from tedge.toml'],
    ['c8y.bridge.topic_prefix', 'c8y', '# default value'],
    ['az.staging.url', 'hub.example:8884', '# not in mapper.toml, taken from tedge.toml'],
  ];
  for (const [key, value, note] of values) {
    it(`config get ${key} → ${value}`, async () => {
      const run = await runTedgeIn(dir, ['mapper', 'config', 'get', key]);
      assert.deepEqual(run, { code: 0, out: `${value.replaceAll('<dir>', dir)}\n`, err: `${note.replaceAll('<dir>', dir)}\n` });
    });
  }

  const errors: Array<[string, number, RegExp]> = [
    ['tb', 2, /invalid key 'tb': expected <mapper>\.<key>/],
    ['nope.url', 1, /no mapper 'nope' under .*; the mappers are: aws, az\.staging, bad, c8y, flows-only, inherit, nobridge, pw, tb$/],
    ['flows-only.url', 1, /mapper 'flows-only' has no mapper\.toml in /],
    ['tb.nothing.here', 2, /unknown key 'nothing\.here' of mapper 'tb'/],
    ['tb.credentials_path', 1, /'credentials_path' is not set for mapper 'tb'/],
    ['tb.device.id', 1, /the device\.id of mapper 'tb' is the CN of its certificate, which cannot be read/],
    ['bad.url', 1, /cloud_type "thingsboard": expected one of c8y, az, aws/],
    ['c8y.no_such_key', 2, /unknown key 'no_such_key' of mapper 'c8y'/],
    ['aws.url', 1, /'url' is not set for mapper 'aws'/],
  ];
  for (const [key, code, message] of errors) {
    it(`config get ${key} fails with exit ${code}, one line`, async () => {
      const run = await runTedgeIn(dir, ['mapper', 'config', 'get', key]);
      assert.equal(run.code, code);
      assert.equal(run.out, '');
      assertOneErrorLine(run, message);
    });
  }
});
