import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLine } from '../../../../src/core/message';
import { feed, setup, table } from './operations-harness';

describe('c8y operations: capabilities → supported operations', () => {
  table([
    {
      name: 'restart on the main device → 114 on c8y/s/us',
      input: ['[te/device/main///cmd/restart] {}'],
      expected: ['[c8y/s/us] 114,c8y_Restart'],
    },
    {
      name: 'each new capability resends the whole list, sorted',
      input: [
        '[te/device/main///cmd/restart] {}',
        '[te/device/main///cmd/firmware_update] {}',
        '[te/device/main///cmd/device_profile] {}',
        '[te/device/main///cmd/config_update] {"types":["tedge.toml","collectd.conf"]}',
      ],
      expected: [
        '[c8y/s/us] 114,c8y_Restart',
        '[c8y/s/us] 114,c8y_Firmware,c8y_Restart',
        '[c8y/s/us] 114,c8y_DeviceProfile,c8y_Firmware,c8y_Restart',
        '[c8y/s/us] 114,c8y_DeviceProfile,c8y_DownloadConfigFile,c8y_Firmware,c8y_Restart',
        '[c8y/s/us] 119,collectd.conf,tedge.toml',
      ],
    },
    {
      name: 'log_upload → c8y_LogfileRequest and 118 with the types sorted',
      input: ['[te/device/main///cmd/log_upload] {"types":["tedge-agent","mosquitto","dmesg"]}'],
      expected: ['[c8y/s/us] 114,c8y_LogfileRequest', '[c8y/s/us] 118,dmesg,mosquitto,tedge-agent'],
    },
    {
      name: 'config_snapshot and config_update with the same types send 119 once',
      input: ['[te/device/main///cmd/config_snapshot] {"types":["b","a"]}', '[te/device/main///cmd/config_update] {"types":["a","b"]}'],
      expected: [
        '[c8y/s/us] 114,c8y_UploadConfigFile',
        '[c8y/s/us] 119,a,b',
        '[c8y/s/us] 114,c8y_DownloadConfigFile,c8y_UploadConfigFile',
      ],
    },
    {
      name: 'software_update → c8y_SoftwareUpdate and a software_list request',
      input: ['[te/device/main///cmd/software_update] {}'],
      expected: ['[c8y/s/us] 114,c8y_SoftwareUpdate', '[te/device/main///cmd/software_list/c8y-mapper-list-1] {"status":"init"}'],
    },
    {
      name: 'the same capability again produces nothing',
      input: ['[te/device/main///cmd/restart] {}', '[te/device/main///cmd/restart] {}', '[te/device/main///cmd/software_update] {}', '[te/device/main///cmd/software_update] {}'],
      expected: [
        '[c8y/s/us] 114,c8y_Restart',
        '[c8y/s/us] 114,c8y_Restart,c8y_SoftwareUpdate',
        '[te/device/main///cmd/software_list/c8y-mapper-list-1] {"status":"init"}',
      ],
    },
    {
      name: 'new log types send a new 118 but no new 114',
      input: ['[te/device/main///cmd/log_upload] {"types":["a"]}', '[te/device/main///cmd/log_upload] {"types":["a"]}', '[te/device/main///cmd/log_upload] {"types":["a","b"]}'],
      expected: ['[c8y/s/us] 114,c8y_LogfileRequest', '[c8y/s/us] 118,a', '[c8y/s/us] 118,a,b'],
    },
    {
      name: 'removing a capability (empty retained) is ignored',
      input: ['[te/device/main///cmd/restart] '],
      expected: [],
    },
    {
      name: 'child device → c8y/s/us/<child xid>',
      entities: ['child1'],
      input: ['[te/device/child1///cmd/restart] {}', '[te/device/child1///cmd/log_upload] {"types":["syslog"]}'],
      expected: [
        '[c8y/s/us/test-device:device:child1] 114,c8y_Restart',
        '[c8y/s/us/test-device:device:child1] 114,c8y_LogfileRequest,c8y_Restart',
        '[c8y/s/us/test-device:device:child1] 118,syslog',
      ],
    },
    {
      name: 'lists are per entity: main and child do not mix',
      entities: ['child1'],
      input: ['[te/device/main///cmd/restart] {}', '[te/device/child1///cmd/firmware_update] {}'],
      expected: ['[c8y/s/us] 114,c8y_Restart', '[c8y/s/us/test-device:device:child1] 114,c8y_Firmware'],
    },
    {
      name: 'nested child device → its own SmartREST topic',
      entities: ['child1', 'nested'],
      input: ['[te/device/nested///cmd/restart] {}'],
      expected: ['[c8y/s/us/test-device:device:nested] 114,c8y_Restart'],
    },
    {
      name: 'child registered with @id uses that id',
      entities: ['child01'],
      input: ['[te/device/child01///cmd/restart] {}'],
      expected: ['[c8y/s/us/child01] 114,c8y_Restart'],
    },
    {
      name: 'service capability → the service SmartREST topic',
      entities: ['service'],
      input: ['[te/device/main/service/foo/cmd/restart] {}'],
      expected: ['[c8y/s/us/test-device:device:main:service:foo] 114,c8y_Restart'],
    },
    {
      name: 'disabled operations (c8y.enable.*=false) are not announced',
      options: { enabled: (op) => op !== 'restart' && op !== 'log_upload' && op !== 'software_update' },
      input: ['[te/device/main///cmd/restart] {}', '[te/device/main///cmd/log_upload] {"types":["a"]}', '[te/device/main///cmd/software_update] {}', '[te/device/main///cmd/firmware_update] {}'],
      expected: ['[c8y/s/us] 114,c8y_Firmware'],
    },
    {
      name: 'software_list types → c8y_SupportedSoftwareTypes only with c8y.software_management.with_types',
      options: { softwareWithTypes: true },
      input: ['[te/device/main///cmd/software_list] {"types":["apt","docker"]}'],
      expected: ['[c8y/inventory/managedObjects/update/test-device] {"c8y_SupportedSoftwareTypes":["apt","docker"]}'],
    },
    {
      name: 'software_list types without with_types → nothing',
      input: ['[te/device/main///cmd/software_list] {"types":["apt","docker"]}'],
      expected: [],
    },
    {
      name: 'custom capability with an operation file mapping → its Cumulocity name',
      options: { customOperations: [{ name: 'c8y_Command', onFragment: 'c8y_Command', operation: 'command' }] },
      input: ['[te/device/main///cmd/command] {}', '[te/device/main///cmd/unmapped] {}'],
      expected: ['[c8y/s/us] 114,c8y_Command'],
    },
    {
      name: 'operations declared by files are part of every 114 of that entity',
      options: { staticOperations: new Map([['test-device', ['c8y_RemoteAccessConnect']]]) },
      input: ['[te/device/main///cmd/restart] {}'],
      expected: ['[c8y/s/us] 114,c8y_RemoteAccessConnect,c8y_Restart'],
    },
    {
      name: 'invalid JSON → ConversionError',
      input: ['[te/device/main///cmd/restart] {"types":'],
      expected: [],
      throws: /^Invalid JSON/,
    },
    {
      name: '"types" that is not a list of strings → ConversionError',
      input: ['[te/device/main///cmd/log_upload] {"types":"mosquitto"}'],
      expected: [],
      throws: /"types" must be a list of strings/,
    },
    {
      name: 'capability of an unregistered entity → ConversionError',
      input: ['[te/device/ghost///cmd/restart] {}'],
      expected: [],
      throws: /Unknown entity 'device\/ghost\/\/'/,
    },
  ]);
});

describe('c8y operations: startup and sync', () => {
  it('at startup with no capabilities yet: only 500', () => {
    const { ops } = setup();
    assert.deepEqual(ops.startupMessages().map(formatLine), ['[c8y/s/us] 500']);
  });

  it('at startup the known list, then 500; file-declared operations count', () => {
    const { ops } = setup({ staticOperations: new Map([['test-device', ['c8y_RemoteAccessConnect']]]) });
    assert.deepEqual(ops.startupMessages().map(formatLine), ['[c8y/s/us] 114,c8y_RemoteAccessConnect', '[c8y/s/us] 500']);
    // A capability extends the file-declared list.
    assert.deepEqual(feed(ops, '[te/device/main///cmd/restart] {}').map(formatLine), ['[c8y/s/us] 114,c8y_RemoteAccessConnect,c8y_Restart']);
  });

  it('sync resends every entity 114', () => {
    const { ops } = setup({}, ['child1']);
    feed(ops, '[te/device/main///cmd/restart] {}');
    feed(ops, '[te/device/child1///cmd/firmware_update] {}');
    assert.deepEqual(ops.supportedOperationsMessages().map(formatLine), [
      '[c8y/s/us] 114,c8y_Restart',
      '[c8y/s/us/test-device:device:child1] 114,c8y_Firmware',
    ]);
  });

  it('a forgotten entity announces its operations again when they come back', () => {
    const { ops } = setup({}, ['child1']);
    feed(ops, '[te/device/child1///cmd/restart] {}');
    ops.forgetEntity('test-device:device:child1');
    assert.deepEqual(feed(ops, '[te/device/child1///cmd/restart] {}').map(formatLine), ['[c8y/s/us/test-device:device:child1] 114,c8y_Restart']);
  });
});
