import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { TedgeConfig } from '../../../src/config/tedge-config';
import { TedgeError } from '../../../src/core/errors';
import { builtInCloudProfile } from '../../../src/bridge/build';
import { type BridgeRule, cloudProfile } from '../../../src/bridge/rules';
import { REPO_ROOT } from '../../helpers/paths';

/** thin-edge.io's own built-in rule files, as a thin-edge 2.x device has them in mappers/<cloud>/bridge/. */
const THIN_EDGE = join(REPO_ROOT, 'test', 'fixtures', 'thin-edge-bridge');
const TEDGE_TOML = '[device]\nid = "dev-1"\n[c8y]\nurl = "t.c8y.example"\n[c8y.profiles.prod]\nurl = "p.c8y.example"\nbridge.topic_prefix = "c8y-prod"\n[az]\nurl = "hub.azure-devices.example"\n[aws]\nurl = "x.iot.example"\n';

/** What thin-edge's mqtt-core.toml bridges that our built-in c8y rules do not (theirs end in /#). */
const WIDER = ['measurement/measurements', 'event/events', 'alarm/alarms'].flatMap((t) => [`${t}/create/#`, `${t}/createBulk/#`]);

type Row = [topic: string, direction: string, local: string, remote: string];
const rows = (rules: readonly BridgeRule[]): Row[] => rules.map((r) => [r.topic, r.direction, r.localPrefix, r.remotePrefix]);
const key = (r: BridgeRule): string => [r.topic, r.direction, r.localPrefix, r.remotePrefix].join('|');

describe("a built-in cloud's bridge applies mappers/<cloud>[.<profile>]/bridge/*.toml after its built-in rules", () => {
  let dir = '';
  const write = (path: string, text: string): void => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  /** thin-edge's mapper installs its file with a .toml.template witness beside it. */
  const installThinEdge = (cloud: string, file: string, into = cloud): void => {
    mkdirSync(join(dir, 'mappers', into, 'bridge'), { recursive: true });
    for (const name of [file, `${file}.template`]) copyFileSync(join(THIN_EDGE, cloud, file), join(dir, 'mappers', into, 'bridge', name));
  };
  const view = (cloud: 'c8y' | 'az' | 'aws', profile?: string): TedgeConfig => TedgeConfig.load(dir, {}).forCloud(cloud, profile);
  const builtIn = (cloud: 'c8y' | 'az' | 'aws', prefix: string = cloud): readonly BridgeRule[] => cloudProfile(cloud, { prefix, deviceId: 'dev-1', azHost: 'hub.azure-devices.example' }).rules;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-cloud-rules-'));
    write('tedge.toml', TEDGE_TOML);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('without a bridge/ directory the rules are the built-in ones', () => {
    for (const cloud of ['c8y', 'az', 'aws'] as const) assert.deepEqual(builtInCloudProfile(view(cloud), cloud).rules, builtIn(cloud));
  });

  it("thin-edge's az and aws rules.toml are exactly our built-in rules: nothing added, nothing bridged twice", () => {
    installThinEdge('az', 'rules.toml');
    installThinEdge('aws', 'rules.toml');
    for (const cloud of ['az', 'aws'] as const) assert.deepEqual(builtInCloudProfile(view(cloud), cloud).rules, builtIn(cloud), cloud);
  });

  it("thin-edge's c8y mqtt-core.toml adds only its wider create topics (…/create/#), every rule once", () => {
    installThinEdge('c8y', 'mqtt-core.toml');
    const rules = builtInCloudProfile(view('c8y'), 'c8y').rules;
    assert.deepEqual(rules.slice(0, builtIn('c8y').length), builtIn('c8y'));
    assert.deepEqual(rows(rules.slice(builtIn('c8y').length)), WIDER.map((t): Row => [t, 'outbound', 'c8y/', '']));
    assert.equal(new Set(rules.map(key)).size, rules.length);
  });

  it("a profile reads mappers/c8y.<profile>/bridge/ with the profile's values; the default connection does not", () => {
    installThinEdge('c8y', 'mqtt-core.toml', 'c8y.prod');
    write('mappers/c8y.prod/bridge/extra.toml', 'local_prefix = "${mapper.bridge.topic_prefix}/"\n[[rule]]\ntopic = "custom/${mapper.device.id}/#"\ndirection = "outbound"\n');
    const rules = builtInCloudProfile(view('c8y', 'prod'), 'c8y').rules;
    assert.deepEqual(rules.slice(0, builtIn('c8y', 'c8y-prod').length), builtIn('c8y', 'c8y-prod'));
    // File name order: extra.toml before mqtt-core.toml.
    assert.deepEqual(rows(rules.slice(builtIn('c8y', 'c8y-prod').length)), [['custom/dev-1/#', 'outbound', 'c8y-prod/', ''], ...WIDER.map((t): Row => [t, 'outbound', 'c8y-prod/', ''])]);
    assert.deepEqual(builtInCloudProfile(view('c8y'), 'c8y').rules, builtIn('c8y'));
  });

  const userFiles: Array<{ name: string; files: Record<string, string>; added: Row[] }> = [
    {
      name: 'a user file: extra topics both ways, in file name order, a template over a literal list',
      files: {
        'b.toml': 'local_prefix = "${mapper.bridge.topic_prefix}/"\n[[rule]]\ntopic = "custom/in/#"\ndirection = "inbound"\n',
        'a.toml': 'local_prefix = "${tedge.c8y.bridge.topic_prefix}/"\n[[template_rule]]\nfor = ["x", "y"]\ntopic = "custom/${item}"\ndirection = "outbound"\n',
      },
      added: [['custom/x', 'outbound', 'c8y/', ''], ['custom/y', 'outbound', 'c8y/', ''], ['custom/in/#', 'inbound', 'c8y/', '']],
    },
    {
      name: 'a .toml.disabled marker skips its file; a .toml.template is not a rule file; a rule equal to a built-in one is dropped',
      files: {
        'off.toml': '[[rule]]\ntopic = "off/#"\ndirection = "outbound"\n',
        'off.toml.disabled': '',
        'tpl.toml.template': '[[rule]]\ntopic = "tpl/#"\ndirection = "outbound"\n',
        'on.toml': 'local_prefix = "c8y/"\n[[rule]]\ntopic = "s/ds"\ndirection = "inbound"\n[[rule]]\ntopic = "on"\ndirection = "bidirectional"\n',
      },
      added: [['on', 'bidirectional', 'c8y/', '']],
    },
    {
      name: "if: the built-in bridge authenticates with the certificate; thin-edge-only settings at thin-edge's defaults",
      files: {
        'cond.toml':
          'local_prefix = "c8y/"\n[[rule]]\nif = "${connection.auth_method} == \'password\'"\ntopic = "pw"\ndirection = "outbound"\n[[rule]]\nif = "!${mapper.mqtt_service.enabled}"\ntopic = "no-mqtt-service"\ndirection = "outbound"\n[[template_rule]]\nfor = "${mapper.smartrest.templates}"\ntopic = "s/dc/${item}"\ndirection = "inbound"\n',
      },
      added: [['no-mqtt-service', 'outbound', 'c8y/', '']],
    },
  ];
  for (const c of userFiles) {
    it(c.name, () => {
      for (const [name, text] of Object.entries(c.files)) write(`mappers/c8y/bridge/${name}`, text);
      assert.deepEqual(rows(builtInCloudProfile(view('c8y'), 'c8y').rules.slice(builtIn('c8y').length)), c.added);
    });
  }

  const broken: Array<{ name: string; text: string; says: RegExp }> = [
    { name: 'invalid TOML: the file and the line', text: 'local_prefix = "c8y/"\n[[rule]\ntopic = "x"\n', says: /mappers\/c8y\/bridge\/bad\.toml \(line 2, column \d+\)/ },
    { name: 'an unknown setting: the file and the field', text: '[[rule]]\ntopic = "${mapper.no_such}/x"\ndirection = "outbound"\n', says: /mappers\/c8y\/bridge\/bad\.toml: rule\[0\]\.topic: \$\{mapper\.no_such\} is not set/ },
    { name: 'a bad direction', text: '[[rule]]\ntopic = "x"\ndirection = "out"\n', says: /bad\.toml: rule\[0\]\.direction must be one of/ },
  ];
  for (const c of broken) {
    it(`a broken file refuses the bridge with one line: ${c.name}`, () => {
      write('mappers/c8y/bridge/bad.toml', c.text);
      assert.throws(
        () => builtInCloudProfile(view('c8y'), 'c8y'),
        (err: unknown) => err instanceof TedgeError && c.says.test(err.message) && !err.message.includes('\n'),
      );
    });
  }
});
