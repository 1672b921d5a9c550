import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertOneErrorLine, runTedgeIn } from '../../helpers/cli-run';
import { REPO_ROOT } from '../../helpers/paths';

/**
 * A device connected to c8y (default and profile `prod`) and aws with the built-in bridge, az not connected,
 * and user mappers: `tb` (rule files with a template rule, a condition, a disabled file, an overlap), `empty`
 * (a file without rules), `nobridge` (flows only), `broken` (a rule naming a key mapper.toml lacks).
 */
function device(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tedge-bridge-cli-'));
  const write = (path: string, text: string): void => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  write(
    'tedge.toml',
    [
      '[device]',
      'id = "dev-1"',
      '[c8y]',
      'url = "tenant.c8y.example"',
      '[c8y.profiles.prod]',
      'url = "prod.c8y.example"',
      'bridge.topic_prefix = "c8y-prod"',
      '[c8y.profiles.bad]',
      'url = "bad.c8y.example"',
      'bridge.topic_prefix = "c8y-bad"',
      '[aws]',
      'url = "x.iot.eu-west-1.amazonaws.example"',
      '[az]',
      'url = "hub.azure-devices.example"',
      '',
    ].join('\n'),
  );
  for (const conf of ['c8y-bridge.conf', 'c8y@prod-bridge.conf', 'c8y@bad-bridge.conf', 'aws-bridge.conf']) write(`mosquitto-conf/${conf}`, '# This file is left empty as the built-in bridge is enabled\n');

  // Profile prod has thin-edge 2.x's own mqtt-core.toml (verbatim), a user's extra topic and a disabled file.
  write('mappers/c8y.prod/bridge/mqtt-core.toml', readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'thin-edge-bridge', 'c8y', 'mqtt-core.toml'), 'utf8'));
  write('mappers/c8y.prod/bridge/extra.toml', 'local_prefix = "${mapper.bridge.topic_prefix}/"\n[[rule]]\ntopic = "custom/#"\ndirection = "outbound"\n');
  write('mappers/c8y.prod/bridge/off.toml', '[[rule]]\ntopic = "off/#"\ndirection = "outbound"\n');
  write('mappers/c8y.prod/bridge/off.toml.disabled', '');
  write('mappers/c8y.bad/bridge/bad.toml', '[[rule]\ntopic = "x"\n');
  write('mappers/tb/mapper.toml', 'url = "mqtt.tb.example:1883"\ncredentials_path = "creds.toml"\n[device]\nid = "tb-device"\n[bridge]\ntopic_prefix = "tb"\nitems = ["telemetry", "attributes"]\n');
  write('mappers/tb/creds.toml', '[credentials]\nusername = "u"\npassword = "p"\n');
  write(
    'mappers/tb/bridge/10-core.toml',
    [
      'local_prefix = "${mapper.bridge.topic_prefix}/"',
      'remote_prefix = "v1/devices/me/"',
      '[[rule]]',
      'topic = "rpc/request/+"',
      'direction = "inbound"',
      '[[rule]]',
      'if = "${connection.auth_method} == \'certificate\'"',
      'topic = "cert-only"',
      'direction = "outbound"',
      '[[rule]]',
      'topic = "shadow/#"',
      'direction = "bidirectional"',
      '[[template_rule]]',
      'for = "${mapper.bridge.items}"',
      'topic = "${item}"',
      'direction = "outbound"',
      '[[template_rule]]',
      "for = ['a', 'b']",
      'topic = "${item}/${mapper.device.id}"',
      'direction = "outbound"',
      'remote_prefix = "devices/"',
      '',
    ].join('\n'),
  );
  write('mappers/tb/bridge/20-cert.toml', 'if = "${connection.auth_method} == \'certificate\'"\n[[rule]]\ntopic = "x"\ndirection = "outbound"\n');
  // A later file's catch-all: the bridge applies the first rule that matches, and so does `test`.
  write('mappers/tb/bridge/30-rest.toml', 'local_prefix = "tb/"\nremote_prefix = "rest/"\n[[rule]]\ntopic = "#"\ndirection = "outbound"\n');
  write('mappers/empty/mapper.toml', 'url = "e.example:1883"\n[device]\nid = "e"\n');
  write('mappers/empty/bridge/none.toml', '# no rules yet\n');
  write('mappers/nobridge/flows/.keep', '');
  write('mappers/broken/mapper.toml', 'url = "b.example:1883"\n[device]\nid = "b"\n');
  write('mappers/broken/bridge/rules.toml', '[[rule]]\ntopic = "${mapper.bridge.nope}/x"\ndirection = "outbound"\n');
  return dir;
}

const C8Y_INSPECT = `Bridge configuration for Cumulocity
Reading from: built-in rules (c8y.bridge.topic_prefix = c8y)

Local -> Remote
  c8y/s/us/#                               ->  s/us/#
  c8y/t/us/#                               ->  t/us/#
  c8y/q/us/#                               ->  q/us/#
  c8y/c/us/#                               ->  c/us/#
  c8y/s/ut/#                               ->  s/ut/#
  c8y/s/uc/#                               ->  s/uc/#
  c8y/t/uc/#                               ->  t/uc/#
  c8y/q/uc/#                               ->  q/uc/#
  c8y/c/uc/#                               ->  c/uc/#
  c8y/inventory/managedObjects/update/#    ->  inventory/managedObjects/update/#
  c8y/measurement/measurements/create      ->  measurement/measurements/create
  c8y/measurement/measurements/createBulk  ->  measurement/measurements/createBulk
  c8y/event/events/create                  ->  event/events/create
  c8y/event/events/createBulk              ->  event/events/createBulk
  c8y/alarm/alarms/create                  ->  alarm/alarms/create
  c8y/alarm/alarms/createBulk              ->  alarm/alarms/createBulk
  c8y/s/uat                                ->  s/uat

Remote -> Local
  s/dt                         ->  c8y/s/dt
  s/ds                         ->  c8y/s/ds
  s/e                          ->  c8y/s/e
  s/dc/#                       ->  c8y/s/dc/#
  devicecontrol/notifications  ->  c8y/devicecontrol/notifications
  error                        ->  c8y/error
  s/dat                        ->  c8y/s/dat

Bidirectional
  -- No matching rules --
`;

const TB_INSPECT = (dir: string): string => `Bridge configuration for custom mapper 'tb'
Reading from: ${dir}/mappers/tb/bridge

Skipping: 20-cert.toml (disabled)
Local -> Remote
  tb/telemetry    ->  v1/devices/me/telemetry
  tb/attributes   ->  v1/devices/me/attributes
  tb/a/tb-device  ->  devices/a/tb-device
  tb/b/tb-device  ->  devices/b/tb-device
  tb/#            ->  rest/#

Remote -> Local
  v1/devices/me/rpc/request/+  ->  tb/rpc/request/+

Bidirectional
  tb/shadow/#  <->  v1/devices/me/shadow/#
`;

describe('tedge bridge inspect | test', () => {
  let dir: string;
  before(() => {
    dir = device();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('inspect c8y: the built-in rules, grouped by direction, padded as thin-edge', async () => {
    const run = await runTedgeIn(dir, ['bridge', 'inspect', 'c8y']);
    assert.equal(run.code, 0, run.err);
    assert.equal(run.err, '');
    assert.equal(run.out, C8Y_INSPECT);
  });

  it('inspect a user mapper: rule files in name order, the template rule expanded, conditions and disabled files applied', async () => {
    const run = await runTedgeIn(dir, ['bridge', 'inspect', 'tb']);
    assert.equal(run.code, 0, run.err);
    assert.equal(run.out, TB_INSPECT(dir));
  });

  const cases: ReadonlyArray<{ args: string[]; env?: Record<string, string>; code: number; out: RegExp | string }> = [
    // thin-edge's Robot cases (builtin_bridge.robot): outbound with the wildcard rule shown, inbound, no match.
    { args: ['c8y', 'c8y/s/us/123'], code: 0, out: /\n\[local\] c8y\/s\/us\/123  ->  \[remote\] s\/us\/123 \(outbound\)\n  matched by rule: c8y\/s\/us\/# -> s\/us\/#\n$/ },
    { args: ['c8y', 's/dat'], code: 0, out: /\n\n\[remote\] s\/dat  ->  \[local\] c8y\/s\/dat \(inbound\)\n$/ },
    { args: ['c8y', 'nonexistent/topic'], code: 2, out: /\nNo matching bridge rule found for "nonexistent\/topic"\n$/ },
    // Only what the bridge forwards: exact measurement topics, not their sub-topics.
    { args: ['c8y', 'c8y/measurement/measurements/create/x'], code: 2, out: /No matching bridge rule found/ },
    // A profile: its own prefix, named by --profile or as c8y.<profile>, or by TEDGE_CLOUD_PROFILE.
    { args: ['c8y', 'c8y-prod/s/us', '--profile', 'prod'], code: 0, out: /^Bridge configuration for Cumulocity\nProfile: prod\nReading from: built-in rules \(c8y.profiles.prod.bridge.topic_prefix = c8y-prod\)\nReading from: .*mappers\/c8y.prod\/bridge\nSkipping: off.toml \(disabled\)\n\n\[local\] c8y-prod\/s\/us  ->  \[remote\] s\/us \(outbound\)\n  matched by rule: c8y-prod\/s\/us\/# -> s\/us\/#\n$/ },
    { args: ['c8y.prod', 's/ds'], code: 0, out: /\[remote\] s\/ds  ->  \[local\] c8y-prod\/s\/ds \(inbound\)\n$/ },
    // The profile's rule files: a user's extra topic, thin-edge's wider create rule, a disabled file's rule not there.
    { args: ['c8y.prod', 'c8y-prod/custom/a'], code: 0, out: /\[local\] c8y-prod\/custom\/a  ->  \[remote\] custom\/a \(outbound\)\n  matched by rule: c8y-prod\/custom\/# -> custom\/#\n$/ },
    { args: ['c8y.prod', 'c8y-prod/measurement/measurements/create/x'], code: 0, out: /matched by rule: c8y-prod\/measurement\/measurements\/create\/# -> measurement\/measurements\/create\/#\n$/ },
    { args: ['c8y.prod', 'off/x'], code: 2, out: /No matching bridge rule found/ },
    { args: ['c8y', 'c8y/s/us'], env: { TEDGE_CLOUD_PROFILE: 'prod' }, code: 2, out: /Profile: prod\n[^]*No matching bridge rule found for "c8y\/s\/us"/ },
    // AWS: the shadow both ways, the device id in the remote topic.
    { args: ['aws', 'aws/shadow/update'], code: 0, out: /\[local\] aws\/shadow\/update  ->  \[remote\] \$aws\/things\/dev-1\/shadow\/update \(bidirectional\)\n/ },
    { args: ['aws', '$aws/things/dev-1/shadow/update/accepted'], code: 0, out: /\[remote\] \$aws\/things\/dev-1\/shadow\/update\/accepted  ->  \[local\] aws\/shadow\/update\/accepted \(bidirectional\)\n/ },
    // No bridge runs: said as thin-edge says it, and nothing is bridged.
    { args: ['az', 'az/messages/events/x'], code: 2, out: 'Not connected to Azure\n' },
    { args: ['c8y', 'c8y/s/us'], env: { TEDGE_MQTT_BRIDGE_BUILT_IN: 'false' }, code: 2, out: /^Built-in bridge is disabled\nThe mosquitto bridge config is stored in .*mosquitto-conf\/c8y-bridge\.conf\n$/ },
    { args: ['az', 'x'], env: { TEDGE_MQTT_BRIDGE_BUILT_IN: 'false' }, code: 2, out: 'Built-in bridge is disabled\nNot connected to Azure\n' },
    // User mappers: the template rule, the first matching rule wins over a later catch-all, bidirectional both ways.
    { args: ['tb', 'tb/attributes'], code: 0, out: /\n\[local\] tb\/attributes  ->  \[remote\] v1\/devices\/me\/attributes \(outbound\)\n$/ },
    { args: ['tb', 'tb/other/x'], code: 0, out: /\n\[local\] tb\/other\/x  ->  \[remote\] rest\/other\/x \(outbound\)\n  matched by rule: tb\/# -> rest\/#\n$/ },
    { args: ['tb', 'v1/devices/me/rpc/request/7'], code: 0, out: /\[remote\] v1\/devices\/me\/rpc\/request\/7  ->  \[local\] tb\/rpc\/request\/7 \(inbound\)\n  matched by rule: v1\/devices\/me\/rpc\/request\/\+ -> tb\/rpc\/request\/\+\n$/ },
    { args: ['tb', 'tb/shadow/s'], code: 0, out: /\[local\] tb\/shadow\/s  ->  \[remote\] v1\/devices\/me\/shadow\/s \(bidirectional\)\n/ },
    // Password authentication: the certificate-only rule is not there (the catch-all takes it).
    { args: ['tb', 'tb/cert-only'], code: 0, out: /\[remote\] rest\/cert-only \(outbound\)/ },
    { args: ['empty', 'e/x'], code: 2, out: /\nBridge config files exist, but no rules were generated\n$/ },
    { args: ['nobridge', 'x'], code: 2, out: /^No bridge configuration directory found for custom mapper 'nobridge'\nExpected bridge rules at: .*mappers\/nobridge\/bridge\n$/ },
  ];
  for (const c of cases) {
    it(`test ${c.args.join(' ')}${c.env ? ` (${Object.entries(c.env).map(([k, v]) => `${k}=${v}`).join(' ')})` : ''} → exit ${c.code}`, async () => {
      const run = await runTedgeIn(dir, ['bridge', 'test', ...c.args], c.env ? { env: c.env } : {});
      assert.equal(run.err, '');
      if (typeof c.out === 'string') assert.equal(run.out, c.out);
      else assert.match(run.out, c.out);
      assert.equal(run.code, c.code);
    });
  }

  const errors: ReadonlyArray<{ args: string[]; code: number; error: RegExp }> = [
    { args: ['test', 'c8y', 'c8y/s/us/#'], code: 1, error: /Wildcard characters \(#, \+\) are not supported\. Provide a concrete topic to test against\.$/ },
    { args: ['test', 'tb', 'tb/+/x'], code: 1, error: /Wildcard characters/ },
    { args: ['test', 'c8y', ''], code: 1, error: /empty topic/ },
    { args: ['inspect', 'nope'], code: 1, error: /^error: Custom mapper 'nope' not found at .*mappers\/nope$/ },
    { args: ['test', 'nope', 'a/b'], code: 1, error: /Custom mapper 'nope' not found/ },
    { args: ['inspect', 'broken'], code: 1, error: /mappers\/broken\/bridge\/rules\.toml: rule\[0\]\.topic: \$\{mapper\.bridge\.nope\} is not set$/ },
    { args: ['inspect', 'c8y.bad'], code: 1, error: /mappers\/c8y\.bad\/bridge\/bad\.toml \(line 1, column \d+\)/ },
    { args: ['inspect', '../etc'], code: 2, error: /not a cloud or mapper name: '\.\.\/etc'/ },
    { args: ['inspect', 'c8y', '--profile', 'a b'], code: 2, error: /invalid profile name 'a b'/ },
    { args: ['inspect', 'c8y.prod', '--profile', 'other'], code: 2, error: /'c8y\.prod' names profile 'prod', but --profile says 'other'/ },
  ];
  for (const e of errors) {
    it(`${e.args.join(' ')} → one error line, exit ${e.code}`, async () => {
      const run = await runTedgeIn(dir, ['bridge', ...e.args]);
      assertOneErrorLine(run, e.error);
      assert.equal(run.code, e.code);
      assert.equal(run.out, '');
    });
  }
});
