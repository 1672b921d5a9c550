import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BridgeRule, awsRules, azRules, c8yRules } from '../../../src/bridge/rules';
import { TopicMapper, filterCovers, subscriptions, toLocal, toRemote } from '../../../src/bridge/topic-map';

/** [local topic, remote topic or undefined (not bridged), QoS] */
type Row = readonly [string, string | undefined, (0 | 1)?];

function table(name: string, rules: ReturnType<typeof c8yRules>, way: 'outbound' | 'inbound', rows: readonly Row[]): void {
  describe(name, () => {
    for (const [from, to, qos] of rows) {
      it(`${from} → ${to ?? '(not bridged)'}`, () => {
        const mapped = way === 'outbound' ? toRemote(rules, from) : toLocal(rules, from);
        assert.equal(mapped?.topic, to);
        if (to !== undefined) assert.equal(mapped?.qos, qos ?? 1);
      });
    }
  });
}

const C8Y = c8yRules('c8y');

table('c8y outbound (local c8y/<topic> → cloud <topic>)', C8Y, 'outbound', [
  ['c8y/s/us', 's/us'],
  ['c8y/s/us/tedge:device:child01', 's/us/tedge:device:child01'],
  ['c8y/t/us/x', 't/us/x'],
  ['c8y/q/us', 'q/us'],
  ['c8y/c/us/a/b', 'c/us/a/b'],
  ['c8y/s/ut/template', 's/ut/template'],
  ['c8y/s/uc/my-template', 's/uc/my-template'],
  ['c8y/c/uc/t1', 'c/uc/t1'],
  ['c8y/inventory/managedObjects/update/tedge:device:child01', 'inventory/managedObjects/update/tedge:device:child01'],
  ['c8y/measurement/measurements/create', 'measurement/measurements/create'],
  ['c8y/measurement/measurements/createBulk', 'measurement/measurements/createBulk'],
  ['c8y/event/events/create', 'event/events/create'],
  ['c8y/event/events/createBulk', 'event/events/createBulk'],
  ['c8y/alarm/alarms/create', 'alarm/alarms/create'],
  ['c8y/alarm/alarms/createBulk', 'alarm/alarms/createBulk'],
  ['c8y/s/uat', 's/uat', 0],
  // inbound-only topics, internal topics and other prefixes are not sent to the cloud
  ['c8y/s/ds', undefined],
  ['c8y/devicecontrol/notifications', undefined],
  ['c8y/measurement/measurements/create/extra', undefined],
  ['c8y/http/events/create/x', undefined],
  ['c8y-internal/alarms/te/device/main///a/x', undefined],
  ['az/messages/events/', undefined],
  ['c8y', undefined],
  ['te/device/main///m/', undefined],
]);

table('c8y inbound (cloud <topic> → local c8y/<topic>)', C8Y, 'inbound', [
  ['s/ds', 'c8y/s/ds'],
  ['s/dt', 'c8y/s/dt'],
  ['s/e', 'c8y/s/e', 0],
  ['s/dat', 'c8y/s/dat', 0],
  ['s/dc/my-template', 'c8y/s/dc/my-template'],
  ['devicecontrol/notifications', 'c8y/devicecontrol/notifications'],
  ['error', 'c8y/error'],
  ['s/us', undefined],
  ['measurement/measurements/create', undefined],
]);

describe('c8y rules with basic authentication', () => {
  it('leave out the JWT topics', () => {
    const rules = c8yRules('c8y', { certificateAuth: false });
    assert.equal(toRemote(rules, 'c8y/s/uat'), undefined);
    assert.equal(toLocal(rules, 's/dat'), undefined);
  });
});

table('c8y with another topic prefix', c8yRules('c8y-staging'), 'outbound', [
  ['c8y-staging/s/us', 's/us'],
  ['c8y/s/us', undefined],
]);

const AZ = azRules('az', 'dev-1');
table('az outbound', AZ, 'outbound', [
  ['az/messages/events/', 'devices/dev-1/messages/events/'],
  ['az/messages/events/a=b', 'devices/dev-1/messages/events/a=b'],
  ['az/twin/GET/?$rid=1', '$iothub/twin/GET/?$rid=1'],
  ['az/twin/PATCH/properties/reported/?$rid=2', '$iothub/twin/PATCH/properties/reported/?$rid=2'],
  ['az/methods/res/200/?$rid=3', '$iothub/methods/res/200/?$rid=3'],
  ['az/messages/devicebound/x', undefined],
]);
table('az inbound', AZ, 'inbound', [
  ['devices/dev-1/messages/devicebound/%24.to=x', 'az/messages/devicebound/%24.to=x'],
  ['$iothub/twin/res/200/?$rid=1', 'az/twin/res/200/?$rid=1'],
  ['$iothub/methods/POST/reboot/?$rid=4', 'az/methods/POST/reboot/?$rid=4'],
  ['devices/other/messages/devicebound/x', undefined],
]);

const AWS = awsRules('aws', 'dev-1');
table('aws outbound', AWS, 'outbound', [
  ['aws/td/device:main/m/', 'thinedge/dev-1/td/device:main/m/'],
  ['aws/shadow/update', '$aws/things/dev-1/shadow/update'],
  ['aws/test-connection', 'thinedge/devices/dev-1/test-connection'],
  ['aws/cmd/x', undefined],
]);
table('aws inbound', AWS, 'inbound', [
  ['thinedge/dev-1/cmd/restart', 'aws/cmd/restart'],
  ['$aws/things/dev-1/shadow/update/accepted', 'aws/shadow/update/accepted'],
  // the connection test: AWS echoes the test message back to its publisher
  ['thinedge/devices/dev-1/test-connection', 'aws/connection-success'],
  ['thinedge/dev-1/td/x', undefined],
]);

describe('subscriptions', () => {
  it('c8y: the local filters are the outbound rules under the prefix', () => {
    const local = subscriptions(C8Y, 'local');
    assert.equal(local.get('c8y/s/us/#'), 1);
    assert.equal(local.get('c8y/s/uat'), 0);
    assert.equal(local.get('c8y/s/ds'), undefined);
    assert.equal(local.size, 17);
  });

  it('c8y: the remote filters are the inbound rules without prefix', () => {
    assert.deepEqual([...subscriptions(C8Y, 'remote')].sort(), [
      ['devicecontrol/notifications', 1],
      ['error', 1],
      ['s/dat', 0],
      ['s/dc/#', 1],
      ['s/ds', 1],
      ['s/dt', 1],
      ['s/e', 0],
    ]);
  });

  it('aws: a bidirectional rule subscribes on both sides', () => {
    assert.equal(subscriptions(AWS, 'local').get('aws/shadow/#'), 1);
    assert.equal(subscriptions(AWS, 'remote').get('$aws/things/dev-1/shadow/#'), 1);
    assert.equal(toRemote(AWS, 'aws/shadow/update')?.bidirectional, true);
  });
});

describe('filterCovers: a filter whose every topic another filter matches', () => {
  const cases: Array<[wide: string, narrow: string, covers: boolean]> = [
    ['c8y/m/create/#', 'c8y/m/create', true],
    ['c8y/m/create/#', 'c8y/m/create/x/+', true],
    ['c8y/m/create', 'c8y/m/create/#', false],
    ['s/dc/#', 's/dc/tpl', true],
    ['s/dc/+', 's/dc/tpl', true],
    ['s/dc/+', 's/dc/#', false],
    ['s/dc/tpl', 's/dc/+', false],
    ['a/+/c', 'a/b/c', true],
    ['a/+/c', 'a/b/d', false],
    ['a/b', 'a/b/c', false],
    ['#', 'x', true],
    ['#', '$aws/things/d/shadow/#', false],
    ['+/things/#', '$aws/things/d', false],
    ['$aws/things/#', '$aws/things/d/shadow/#', true],
    ['x', 'x', true],
  ];
  for (const [wide, narrow, covers] of cases) it(`${wide} ${covers ? 'covers' : 'does not cover'} ${narrow}`, () => assert.equal(filterCovers(wide, narrow), covers));
});

describe('subscriptions leave out a filter a wider one covers (a broker may deliver once per matching subscription)', () => {
  const r = (topic: string, direction: 'outbound' | 'inbound', qos: 0 | 1): BridgeRule => ({ topic, direction, qos, localPrefix: 'c8y/', remotePrefix: '' });
  it('the wider filter alone, at the highest QoS of those it covers; the first matching rule still maps', () => {
    const rules = [r('m/create', 'outbound', 1), r('s/dc/#', 'inbound', 0), r('m/create/#', 'outbound', 0), r('s/dc/tpl', 'inbound', 1), r('other', 'outbound', 0)];
    assert.deepEqual([...subscriptions(rules, 'local')].sort(), [['c8y/m/create/#', 1], ['c8y/other', 0]]);
    assert.deepEqual([...subscriptions(rules, 'remote')], [['s/dc/#', 1]]);
    assert.equal(toRemote(rules, 'c8y/m/create')?.qos, 1);
    assert.equal(toLocal(rules, 's/dc/tpl')?.qos, 0);
  });
});

describe('TopicMapper', () => {
  it('answers as toRemote/toLocal, also for cached topics, and stays bounded', () => {
    const mapper = new TopicMapper(C8Y, 4);
    for (let i = 0; i < 3; i++) {
      assert.equal(mapper.toRemote('c8y/s/us')?.topic, 's/us');
      assert.equal(mapper.toRemote('c8y/nope'), undefined);
      assert.equal(mapper.toLocal('s/ds')?.topic, 'c8y/s/ds');
    }
    for (let i = 0; i < 10; i++) assert.equal(mapper.toRemote(`c8y/inventory/managedObjects/update/child${i}`)?.topic, `inventory/managedObjects/update/child${i}`);
  });
});
