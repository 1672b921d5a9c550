import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { proxyUrl } from '../../../../src/mapper/c8y/operations/urls';
import { versionAndType } from '../../../../src/mapper/c8y/operations/software';
import { substitute } from '../../../../src/mapper/c8y/operations/custom';
import { CLOUD_TOPIC, cloudOp, table, testOptions } from './operations-harness';

const MAIN = 'test-device';
const CHILD = 'test-device:device:child1';

describe('c8y operations: Cumulocity operations → te/ commands', () => {
  table([
    {
      name: 'c8y_Restart on the main device',
      input: [cloudOp(MAIN, '1234', { c8y_Restart: {} })],
      expected: ['[te/device/main///cmd/restart/c8y-mapper-1234] {"status":"init"}'],
    },
    {
      name: 'the target is chosen by externalSource.externalId: child device',
      entities: ['child1'],
      input: [cloudOp(CHILD, '1234', { c8y_Restart: {} })],
      expected: ['[te/device/child1///cmd/restart/c8y-mapper-1234] {"status":"init"}'],
    },
    {
      name: 'nested child device',
      entities: ['child1', 'nested'],
      input: [cloudOp('test-device:device:nested', '5', { c8y_Restart: {} })],
      expected: ['[te/device/nested///cmd/restart/c8y-mapper-5] {"status":"init"}'],
    },
    {
      name: 'child registered with @id',
      entities: ['child01'],
      input: [cloudOp('child01', '5', { c8y_Restart: {} })],
      expected: ['[te/device/child01///cmd/restart/c8y-mapper-5] {"status":"init"}'],
    },
    {
      name: 'a numeric operation id is used as text',
      input: [`[${CLOUD_TOPIC}] {"id":42,"c8y_Restart":{},"externalSource":{"externalId":"test-device","type":"c8y_Serial"}}`],
      expected: ['[te/device/main///cmd/restart/c8y-mapper-42] {"status":"init"}'],
    },
    {
      name: 'c8y_SoftwareUpdate: grouped by type (softwareType or version::type), delete → remove, tenant URLs through the proxy',
      input: [
        cloudOp(MAIN, '123456', {
          c8y_SoftwareUpdate: [
            { name: 'nodered', action: 'install', version: '1.0.0::debian', url: '' },
            { name: 'collectd', action: 'install', version: '5.7::debian', url: 'https://test.c8y.io/inventory/binaries/757538' },
            { softwareType: 'debian', name: 'nano', action: 'delete', version: '2.3', url: 'https://ignored' },
            { name: 'nginx', action: 'install', version: '1.21.0::docker', url: 'https://example.com/nginx.tar' },
            { name: 'plain', action: 'install', version: '' },
          ],
        }),
      ],
      expected: [
        '[te/device/main///cmd/software_update/c8y-mapper-123456] ' +
          JSON.stringify({
            status: 'init',
            updateList: [
              {
                type: 'debian',
                modules: [
                  { name: 'nodered', version: '1.0.0', action: 'install' },
                  { name: 'collectd', version: '5.7', url: 'http://127.0.0.1:8001/c8y/inventory/binaries/757538', action: 'install' },
                  { name: 'nano', version: '2.3', action: 'remove' },
                ],
              },
              { type: 'docker', modules: [{ name: 'nginx', version: '1.21.0', url: 'https://example.com/nginx.tar', action: 'install' }] },
              { type: 'default', modules: [{ name: 'plain', action: 'install' }] },
            ],
          }),
      ],
    },
    {
      name: 'c8y_SoftwareUpdate with an unknown action fails the operation in Cumulocity (504 then 505)',
      input: [cloudOp(MAIN, '123456', { c8y_SoftwareUpdate: [{ name: 'nodered', action: 'remove', version: '1.0.0::debian' }] })],
      expected: ['[c8y/s/us] 504,123456', '[c8y/s/us] 505,123456,Parameter remove is not recognized. It must be install or delete.'],
    },
    {
      name: 'malformed fragment, by name (501 then 502) on the target SmartREST topic',
      entities: ['child1'],
      options: { useOperationId: false },
      input: [cloudOp(CHILD, '9', { c8y_Firmware: { name: 'fw', version: '1' } })],
      expected: [
        '[c8y/s/us/test-device:device:child1] 501,c8y_Firmware',
        '[c8y/s/us/test-device:device:child1] 502,c8y_Firmware,"Invalid c8y_Firmware: ""url"" must be a string"',
      ],
    },
    {
      name: 'c8y_UploadConfigFile → config_snapshot with the file-transfer URL (/ in the type → :)',
      input: [cloudOp(MAIN, '522559', { c8y_UploadConfigFile: { type: '/etc/tedge/tedge.toml' } })],
      expected: [
        '[te/device/main///cmd/config_snapshot/c8y-mapper-522559] {"status":"init","type":"/etc/tedge/tedge.toml","tedgeUrl":"http://127.0.0.1:8000/te/v1/files/test-device/config_snapshot/:etc:tedge:tedge.toml-c8y-mapper-522559"}',
      ],
    },
    {
      name: 'c8y_UploadConfigFile without type (legacy) → type "default"; child xid in the URL',
      entities: ['child1'],
      input: [cloudOp(CHILD, '7', { c8y_UploadConfigFile: {} })],
      expected: [
        '[te/device/child1///cmd/config_snapshot/c8y-mapper-7] {"status":"init","type":"default","tedgeUrl":"http://127.0.0.1:8000/te/v1/files/test-device:device:child1/config_snapshot/default-c8y-mapper-7"}',
      ],
    },
    {
      name: 'c8y_DownloadConfigFile → config_update; tenant URL through the proxy, original kept as serverUrl',
      input: [cloudOp(MAIN, '8', { c8y_DownloadConfigFile: { type: 'collectd', url: 'https://test.c8y.io/inventory/binaries/757538' } })],
      expected: [
        '[te/device/main///cmd/config_update/c8y-mapper-8] {"status":"init","type":"collectd","remoteUrl":"http://127.0.0.1:8001/c8y/inventory/binaries/757538","serverUrl":"https://test.c8y.io/inventory/binaries/757538"}',
      ],
    },
    {
      name: 'c8y_LogfileRequest → log_upload (offsets as RFC 3339, empty search dropped)',
      input: [
        cloudOp(MAIN, '9', {
          c8y_LogfileRequest: { searchText: '', logFile: 'tedge-agent', dateTo: '2023-11-22T22:44:34+0100', dateFrom: '2023-11-21T22:44:34+0100', maximumLines: 500 },
        }),
        cloudOp(MAIN, '10', {
          c8y_LogfileRequest: { searchText: 'ERROR', logFile: 'mosquitto', dateTo: '2023-11-22T22:44:34Z', dateFrom: '2023-11-21T22:44:34Z', maximumLines: 1000 },
        }),
      ],
      expected: [
        '[te/device/main///cmd/log_upload/c8y-mapper-9] {"status":"init","type":"tedge-agent","tedgeUrl":"http://127.0.0.1:8000/te/v1/files/test-device/log_upload/tedge-agent-c8y-mapper-9","dateFrom":"2023-11-21T22:44:34+01:00","dateTo":"2023-11-22T22:44:34+01:00","lines":500}',
        '[te/device/main///cmd/log_upload/c8y-mapper-10] {"status":"init","type":"mosquitto","tedgeUrl":"http://127.0.0.1:8000/te/v1/files/test-device/log_upload/mosquitto-c8y-mapper-10","dateFrom":"2023-11-21T22:44:34Z","dateTo":"2023-11-22T22:44:34Z","searchText":"ERROR","lines":1000}',
      ],
    },
    {
      name: 'c8y_Firmware → firmware_update: tedgeUrl through the proxy for tenant URLs, as is otherwise',
      input: [
        cloudOp(MAIN, '1', { c8y_Firmware: { name: 'myFirmware', version: '1.0', url: 'http://test.c8y.io/inventory/binaries/51541' } }),
        cloudOp(MAIN, '2', { c8y_Firmware: { name: 'myFirmware', version: '1.0', url: 'http://www.my.url' } }),
      ],
      expected: [
        '[te/device/main///cmd/firmware_update/c8y-mapper-1] {"status":"init","tedgeUrl":"http://127.0.0.1:8001/c8y/inventory/binaries/51541","remoteUrl":"http://test.c8y.io/inventory/binaries/51541","name":"myFirmware","version":"1.0"}',
        '[te/device/main///cmd/firmware_update/c8y-mapper-2] {"status":"init","tedgeUrl":"http://www.my.url","remoteUrl":"http://www.my.url","name":"myFirmware","version":"1.0"}',
      ],
    },
    {
      name: 'c8y_DeviceProfile → device_profile: firmware, then configuration, then software',
      input: [
        cloudOp(MAIN, '523244', {
          profileName: 'prod-profile-v2',
          c8y_DeviceProfile: {
            software: [{ name: 'collectd', action: 'install', version: 'latest', url: ' ' }],
            configuration: [{ name: 'collectd-v2', type: 'collectd.conf', url: 'https://test.c8y.io/inventory/binaries/88395' }],
            firmware: { name: 'core-image-tedge-rauc', version: '20240430.1139', url: 'https://test.c8y.io/inventory/binaries/43226' },
          },
        }),
      ],
      expected: [
        '[te/device/main///cmd/device_profile/c8y-mapper-523244] ' +
          JSON.stringify({
            status: 'init',
            name: 'prod-profile-v2',
            operations: [
              { operation: 'firmware_update', payload: { name: 'core-image-tedge-rauc', version: '20240430.1139', remoteUrl: 'http://127.0.0.1:8001/c8y/inventory/binaries/43226' }, '@skip': false },
              {
                operation: 'config_update',
                payload: { name: 'collectd-v2', type: 'collectd.conf', remoteUrl: 'http://127.0.0.1:8001/c8y/inventory/binaries/88395', serverUrl: 'https://test.c8y.io/inventory/binaries/88395' },
                '@skip': false,
              },
              { operation: 'software_update', payload: { updateList: [{ type: 'default', modules: [{ name: 'collectd', version: 'latest', action: 'install' }] }] }, '@skip': false },
            ],
          }),
      ],
    },
    {
      name: 'custom operation from an operation file: input filled from the Cumulocity operation',
      options: { customOperations: [{ name: 'c8y_Command', onFragment: 'c8y_Command', operation: 'command', input: { text: '${.payload.c8y_Command.text}', note: 'run ${.payload.c8y_Command.text}!' } }] },
      input: [cloudOp(MAIN, '11', { c8y_Command: { text: 'ls -l' } })],
      // The c8y-mapper fragment says how to report the command, whoever handles it, even after a mapper restart.
      expected: ['[te/device/main///cmd/command/c8y-mapper-11] {"status":"init","text":"ls -l","note":"run ls -l!","c8y-mapper":{"on_fragment":"c8y_Command","output":null}}'],
    },
    {
      name: 'the same operation delivered twice becomes one command',
      input: [cloudOp(MAIN, '1234', { c8y_Restart: {} }), cloudOp(MAIN, '1234', { c8y_Restart: {} })],
      expected: ['[te/device/main///cmd/restart/c8y-mapper-1234] {"status":"init"}'],
    },
    {
      name: 'several operations in one message, one per line; a bad line becomes a te/errors message',
      input: [`[${CLOUD_TOPIC}] ${cloudOp(MAIN, '1', { c8y_Restart: {} }).slice(CLOUD_TOPIC.length + 3)}\n${cloudOp('nobody', '2', { c8y_Restart: {} }).slice(CLOUD_TOPIC.length + 3)}`],
      expected: [
        '[te/device/main///cmd/restart/c8y-mapper-1] {"status":"init"}',
        "[te/errors] Failed to convert a message on topic 'c8y/devicecontrol/notifications': Cannot execute Cumulocity operation 2: no registered entity has the external id 'nobody'",
      ],
    },
    {
      name: 'disabled operation (c8y.enable.device_restart=false) → FAILED in Cumulocity naming the key',
      options: { enabled: (op) => op !== 'restart' },
      input: [cloudOp(MAIN, '1', { c8y_Restart: {} })],
      expected: ['[c8y/s/us] 504,1', '[c8y/s/us] 505,1,Cannot execute Cumulocity operation 1: c8y_Restart is disabled (c8y.enable.device_restart = false)'],
    },
    {
      name: 'disabled c8y_LogfileRequest',
      options: { enabled: (op) => op !== 'log_upload' },
      input: [cloudOp(MAIN, '1', { c8y_LogfileRequest: { logFile: 'x', dateFrom: 'a', dateTo: 'b' } })],
      expected: ['[c8y/s/us] 504,1', '[c8y/s/us] 505,1,Cannot execute Cumulocity operation 1: c8y_LogfileRequest is disabled (c8y.enable.log_upload = false)'],
    },
    {
      name: 'unknown external id → ConversionError',
      input: [cloudOp('nobody', '1', { c8y_Restart: {} })],
      expected: [],
      throws: /no registered entity has the external id 'nobody'/,
    },
    {
      name: 'unsupported fragment → FAILED in Cumulocity listing the fragments, not left pending',
      input: [cloudOp(MAIN, '1', { c8y_Unknown: {}, description: 'x' })],
      expected: ['[c8y/s/us] 504,1', '[c8y/s/us] 505,1,Cannot execute Cumulocity operation 1: no handler for its fragments (c8y_Unknown)'],
    },
    {
      name: 'unsupported fragment reported by name: no name to fail it under → ConversionError',
      options: { useOperationId: false },
      input: [cloudOp(MAIN, '1', { c8y_Unknown: {} })],
      expected: [],
      throws: /no handler for its fragments \(c8y_Unknown\)/,
    },
    {
      name: 'the same unknown operation re-delivered is failed once',
      input: [cloudOp(MAIN, '1', { c8y_Unknown: {} }), cloudOp(MAIN, '1', { c8y_Unknown: {} })],
      expected: ['[c8y/s/us] 504,1', '[c8y/s/us] 505,1,Cannot execute Cumulocity operation 1: no handler for its fragments (c8y_Unknown)'],
    },
    {
      name: 'invalid JSON → ConversionError',
      input: [`[${CLOUD_TOPIC}] {"id":"1",`],
      expected: [],
      throws: /^Invalid JSON/,
    },
    {
      name: 'no operation id → ConversionError',
      input: [`[${CLOUD_TOPIC}] {"c8y_Restart":{},"externalSource":{"externalId":"test-device"}}`],
      expected: [],
      throws: /"id" must be a string/,
    },
  ]);
});

describe('c8y operations: helpers', () => {
  it('proxy rewriting: tenant host (any scheme, any path) → proxy; others unchanged', () => {
    const opts = testOptions();
    assert.equal(proxyUrl('https://test.c8y.io/inventory/binaries/1', opts), 'http://127.0.0.1:8001/c8y/inventory/binaries/1');
    assert.equal(proxyUrl('https://TEST.c8y.io/event/events/2/binaries?x=1', opts), 'http://127.0.0.1:8001/c8y/event/events/2/binaries?x=1');
    assert.equal(proxyUrl('https://test.c8y.io.evil.com/inventory/binaries/1', opts), 'https://test.c8y.io.evil.com/inventory/binaries/1');
    assert.equal(proxyUrl('not a url', opts), 'not a url');
    assert.equal(proxyUrl('https://test.c8y.io/x', { ...opts, c8yHost: undefined }), 'https://test.c8y.io/x');
  });

  it('version and type as thin-edge splits them (#1352)', () => {
    assert.deepEqual(versionAndType('', undefined), {});
    assert.deepEqual(versionAndType('   ', undefined), {});
    assert.deepEqual(versionAndType('::', undefined), {});
    assert.deepEqual(versionAndType('::debian', undefined), { type: 'debian' });
    assert.deepEqual(versionAndType('1.0.0::1::debian', undefined), { version: '1.0.0::1', type: 'debian' });
    assert.deepEqual(versionAndType('1.0.0::1::', undefined), { version: '1.0.0::1' });
    assert.deepEqual(versionAndType('1.0.0::debian', 'rpm'), { version: '1.0.0::debian', type: 'rpm' });
    assert.deepEqual(versionAndType('1.0.0::debian', '  '), { version: '1.0.0', type: 'debian' });
    assert.deepEqual(versionAndType(' ', 'rpm'), { type: 'rpm' });
  });

  it('template substitution keeps JSON types for whole references and leaves unknown ones', () => {
    const op = { c8y_X: { n: 3, list: [1, 2] } };
    assert.deepEqual(substitute({ a: '${.payload.c8y_X.n}', b: '${.payload.c8y_X.list}', c: '${.payload.nope}', d: ['${.payload.c8y_X.n}'] }, op), {
      a: 3,
      b: [1, 2],
      c: '${.payload.nope}',
      d: [3],
    });
  });
});
