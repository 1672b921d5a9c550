import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bridgeConfPath, hostOfUrl, resolveEndpoint } from '../../../src/connect/cloud-endpoint';
import { awsTestTopic, jwtIssuer } from '../../../src/connect/connection-check';
import { deviceCreationLine } from '../../../src/connect/device-creation';
import { TedgeConfig } from '../../../src/config/tedge-config';

const DIR = '/nonexistent/tedge';
const config = (env: Record<string, string>): TedgeConfig => TedgeConfig.load(DIR, env);

describe('cloud endpoint', () => {
  it('c8y: host and port from c8y.mqtt (derived from c8y.url), device id, prefix, bridge file, mapper', () => {
    const e = resolveEndpoint(config({ TEDGE_DEVICE_ID: 'dev-1', TEDGE_C8Y_URL: 'https://tenant.example.com/' }), 'c8y');
    assert.equal(e.urlHost, 'tenant.example.com');
    assert.equal(e.host, 'tenant.example.com');
    assert.equal(e.port, 8883);
    assert.equal(e.rootCertKey, 'c8y.root_cert_path');
    assert.equal(e.rootCertPath, '/etc/ssl/certs');
    assert.equal(e.certPath, `${DIR}/device-certs/tedge-certificate.pem`);
    assert.equal(e.deviceType, 'thin-edge.io');
    assert.equal(e.prefix, 'c8y');
    assert.equal(e.bridgeConfPath, `${DIR}/mosquitto-conf/c8y-bridge.conf`);
    assert.equal(e.mapperService, 'tedge-mapper-c8y');
    assert.equal(e.profile.cleanSession, true);
    assert.equal(e.profile.username, undefined);
  });

  it('az: the user name carries the hub host of az.url, even when az.mqtt points elsewhere', () => {
    const e = resolveEndpoint(config({ TEDGE_DEVICE_ID: 'dev-1', TEDGE_AZ_URL: 'myhub.azure-devices.net', TEDGE_AZ_MQTT: '127.0.0.1:1883' }), 'az');
    assert.equal(e.host, '127.0.0.1');
    assert.equal(e.port, 1883);
    assert.equal(e.profile.username, 'myhub.azure-devices.net/dev-1/?api-version=2018-06-30');
    assert.equal(e.profile.cleanSession, false);
  });

  it('fails with one line when the url or the device certificate is missing', () => {
    assert.throws(() => resolveEndpoint(config({ TEDGE_DEVICE_ID: 'dev-1' }), 'aws'), {
      code: 'CONFIG_INVALID_VALUE',
      message: "'aws.url' is not set; set it with: tedge config set aws.url <id>-ats.iot.<region>.amazonaws.com",
    });
    assert.throws(() => resolveEndpoint(config({ TEDGE_C8Y_URL: 'x.example.com' }), 'c8y'), {
      code: 'CERT_MISSING',
      message: `no device id: there is no device certificate at ${DIR}/device-certs/tedge-certificate.pem; create one with: tedge cert create --device-id <id>`,
    });
    assert.throws(() => resolveEndpoint(config({ TEDGE_DEVICE_ID: 'd', TEDGE_C8Y_URL: 'x', TEDGE_C8Y_BRIDGE_TOPIC_PREFIX: 'c8y/#' }), 'c8y'), { code: 'CONFIG_INVALID_VALUE' });
  });

  const urls: Array<[string, string]> = [
    ['tenant.example.com', 'tenant.example.com'],
    ['https://tenant.example.com', 'tenant.example.com'],
    ['https://tenant.example.com:443/apps', 'tenant.example.com'],
    ['tenant.example.com:8443', 'tenant.example.com'],
    ['127.0.0.1', '127.0.0.1'],
  ];
  for (const [url, host] of urls) it(`hostOfUrl(${url}) = ${host}`, () => assert.equal(hostOfUrl(url), host));

  it('bridge files live in <config-dir>/mosquitto-conf', () => {
    assert.equal(bridgeConfPath('/etc/tedge', 'az'), '/etc/tedge/mosquitto-conf/az-bridge.conf');
  });

  it('the AWS test topic comes from the bridge rules', () => {
    const e = resolveEndpoint(config({ TEDGE_DEVICE_ID: 'dev-1', TEDGE_AWS_URL: 'x.amazonaws.com' }), 'aws');
    assert.equal(awsTestTopic(e), 'thinedge/devices/dev-1/test-connection');
  });

  it('device creation: 100,<id>,<type>, quoted as SmartREST CSV', () => {
    assert.equal(deviceCreationLine({ deviceId: 'dev-1', deviceType: 'thin-edge.io' }), '100,dev-1,thin-edge.io');
    assert.equal(deviceCreationLine({ deviceId: 'a,b', deviceType: 'my "type"' }), '100,"a,b","my ""type"""');
  });

  it('jwtIssuer reads the iss claim as a host, tolerating junk', () => {
    const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    assert.equal(jwtIssuer(`${b64({ alg: 'none' })}.${b64({ iss: 't123.cumulocity.com' })}.sig`), 't123.cumulocity.com');
    assert.equal(jwtIssuer(`${b64({})}.${b64({ iss: 'https://t1.example.com:443/x' })}.`), 't1.example.com');
    assert.equal(jwtIssuer('not-a-jwt'), undefined);
    assert.equal(jwtIssuer('a.!!!.c'), undefined);
    assert.equal(jwtIssuer(`a.${b64({ iss: 3 })}.c`), undefined);
  });
});
