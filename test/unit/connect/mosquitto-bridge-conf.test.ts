import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BridgeRule } from '../../../src/bridge/rules';
import { type Cloud, resolveEndpoint } from '../../../src/connect/cloud-endpoint';
import { BUILT_IN_BRIDGE_CONF, mosquittoBridge, renderMosquittoBridgeConf, topicLine } from '../../../src/connect/mosquitto-bridge-conf';
import { TedgeConfig } from '../../../src/config/tedge-config';

const DIR = '/nonexistent/tedge';
const CERT = `${DIR}/device-certs/tedge-certificate.pem`;
const KEY = `${DIR}/device-certs/tedge-private-key.pem`;

function endpoint(cloud: Cloud, env: Record<string, string> = {}) {
  const config = TedgeConfig.load(DIR, {
    TEDGE_DEVICE_ID: 'dev-1',
    TEDGE_C8Y_URL: 'example.cumulocity.com',
    TEDGE_AZ_URL: 'myhub.azure-devices.net',
    TEDGE_AWS_URL: 'abc-ats.iot.eu-west-1.amazonaws.com',
    ...env,
  });
  return resolveEndpoint(config, cloud);
}

const header = (cloud: Cloud, address: string, ca: string, extra: string[], clean: boolean): string[] => [
  '### Bridge',
  `connection edge_to_${cloud}`,
  `address ${address}`,
  ca,
  'remote_clientid dev-1',
  ...extra,
  `bridge_certfile ${CERT}`,
  `bridge_keyfile ${KEY}`,
  'try_private false',
  'start_type automatic',
  `cleansession ${clean}`,
  'local_cleansession false',
  'notifications true',
  'notifications_local_only true',
  `notification_topic te/device/main/service/mosquitto-${cloud}-bridge/status/health`,
  'bridge_attempt_unsubscribe false',
  'keepalive_interval 60',
  '',
  '### Topics',
];

describe('mosquitto bridge configuration', () => {
  it('c8y: the topics of thin-edge c8y-bridge.conf (§2.2), clean session, CA directory', () => {
    const text = renderMosquittoBridgeConf(mosquittoBridge(endpoint('c8y'), { rootCertIsDirectory: true }));
    const expected = [
      ...header('c8y', 'example.cumulocity.com:8883', 'bridge_capath /etc/ssl/certs', ['local_clientid Cumulocity'], true),
      'topic s/us/# out 1 c8y/ ""',
      'topic t/us/# out 1 c8y/ ""',
      'topic q/us/# out 1 c8y/ ""',
      'topic c/us/# out 1 c8y/ ""',
      'topic s/ut/# out 1 c8y/ ""',
      'topic s/uc/# out 1 c8y/ ""',
      'topic t/uc/# out 1 c8y/ ""',
      'topic q/uc/# out 1 c8y/ ""',
      'topic c/uc/# out 1 c8y/ ""',
      'topic inventory/managedObjects/update/# out 1 c8y/ ""',
      'topic measurement/measurements/create out 1 c8y/ ""',
      'topic measurement/measurements/createBulk out 1 c8y/ ""',
      'topic event/events/create out 1 c8y/ ""',
      'topic event/events/createBulk out 1 c8y/ ""',
      'topic alarm/alarms/create out 1 c8y/ ""',
      'topic alarm/alarms/createBulk out 1 c8y/ ""',
      'topic s/uat out 0 c8y/ ""',
      'topic s/dt in 1 c8y/ ""',
      'topic s/ds in 1 c8y/ ""',
      'topic s/e in 0 c8y/ ""',
      'topic s/dc/# in 1 c8y/ ""',
      'topic devicecontrol/notifications in 1 c8y/ ""',
      'topic error in 1 c8y/ ""',
      'topic s/dat in 0 c8y/ ""',
      '',
    ].join('\n');
    assert.equal(text, expected);
  });

  it('az: user name <hub>/<device>/?api-version=2018-06-30, persistent session, CA file (§2.3)', () => {
    const text = renderMosquittoBridgeConf(mosquittoBridge(endpoint('az', { TEDGE_AZ_ROOT_CERT_PATH: '/etc/ssl/certs/Baltimore.pem' }), { rootCertIsDirectory: false }));
    const expected = [
      ...header('az', 'myhub.azure-devices.net:8883', 'bridge_cafile /etc/ssl/certs/Baltimore.pem', ['local_clientid Azure', 'remote_username myhub.azure-devices.net/dev-1/?api-version=2018-06-30'], false),
      'topic messages/events/# out 1 az/ devices/dev-1/',
      'topic messages/devicebound/# in 1 az/ devices/dev-1/',
      'topic twin/GET/# out 1 az/ $iothub/',
      'topic twin/PATCH/# out 1 az/ $iothub/',
      'topic methods/res/# out 1 az/ $iothub/',
      'topic twin/res/# in 1 az/ $iothub/',
      'topic methods/POST/# in 1 az/ $iothub/',
      '',
    ].join('\n');
    assert.equal(text, expected);
  });

  it('aws: telemetry, commands, the shadow both ways and the connection-test echo (§2.4)', () => {
    const text = renderMosquittoBridgeConf(mosquittoBridge(endpoint('aws', { TEDGE_AWS_MQTT: 'abc-ats.iot.eu-west-1.amazonaws.com:443' }), { rootCertIsDirectory: true }));
    const expected = [
      ...header('aws', 'abc-ats.iot.eu-west-1.amazonaws.com:443', 'bridge_capath /etc/ssl/certs', ['local_clientid Aws'], false),
      'topic td/# out 1 aws/ thinedge/dev-1/',
      'topic cmd/# in 1 aws/ thinedge/dev-1/',
      'topic shadow/# both 1 aws/ $aws/things/dev-1/',
      'topic "" out 1 aws/test-connection thinedge/devices/dev-1/test-connection',
      'topic "" in 1 aws/connection-success thinedge/devices/dev-1/test-connection',
      '',
    ].join('\n');
    assert.equal(text, expected);
  });

  it('follows the topic prefix and the device topic id', () => {
    const text = renderMosquittoBridgeConf(mosquittoBridge(endpoint('c8y', { TEDGE_C8Y_BRIDGE_TOPIC_PREFIX: 'c8y-p1', TEDGE_MQTT_DEVICE_TOPIC_ID: 'device/gw//' }), { rootCertIsDirectory: true }));
    assert.match(text, /^topic s\/us\/# out 1 c8y-p1\/ ""$/m);
    // thin-edge names mosquitto's bridge service after the prefix: mosquitto-<prefix>-bridge.
    assert.match(text, /^notification_topic te\/device\/gw\/service\/mosquitto-c8y-p1-bridge\/status\/health$/m);
  });

  const lines: Array<[BridgeRule, string]> = [
    [{ topic: 's/us/#', direction: 'outbound', qos: 1, localPrefix: 'c8y/', remotePrefix: '' }, 'topic s/us/# out 1 c8y/ ""'],
    [{ topic: 's/e', direction: 'inbound', qos: 0, localPrefix: 'c8y/', remotePrefix: '' }, 'topic s/e in 0 c8y/ ""'],
    [{ topic: 'shadow/#', direction: 'bidirectional', qos: 1, localPrefix: 'aws/', remotePrefix: '$aws/things/d/' }, 'topic shadow/# both 1 aws/ $aws/things/d/'],
    [{ topic: '', direction: 'outbound', qos: 1, localPrefix: 'aws/test-connection', remotePrefix: 'x/y' }, 'topic "" out 1 aws/test-connection x/y'],
  ];
  for (const [rule, line] of lines) it(`topic line: ${line}`, () => assert.equal(topicLine(rule), line));

  it('refuses a value that would end early or start another directive', () => {
    assert.throws(() => renderMosquittoBridgeConf(mosquittoBridge(endpoint('c8y', { TEDGE_DEVICE_CERT_PATH: '/my certs/c.pem' }), { rootCertIsDirectory: true })), {
      code: 'CONFIG_INVALID_VALUE',
      message: "cannot write a mosquitto bridge: the certificate path '/my certs/c.pem' contains a space or a control character",
    });
    assert.throws(() => renderMosquittoBridgeConf(mosquittoBridge(endpoint('c8y', { TEDGE_DEVICE_ID: 'dev\nconnection evil' }), { rootCertIsDirectory: true })), { code: 'CONFIG_INVALID_VALUE' });
  });

  it('the built-in bridge file is the single comment line thin-edge writes', () => {
    assert.equal(BUILT_IN_BRIDGE_CONF, '# This file is left empty as the built-in bridge is enabled\n');
  });
});
