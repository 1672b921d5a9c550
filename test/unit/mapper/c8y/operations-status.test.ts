import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLine, payloadText } from '../../../../src/core/message';
import { parseUploadRequest } from '../../../../src/mapper/c8y/operations';
import { advancedSoftwareList } from '../../../../src/mapper/c8y/operations/software';
import { assertFlags, feed, setup, table } from './operations-harness';

const R = 'te/device/main///cmd/restart/c8y-mapper-1234';

describe('c8y operations: command status → SmartREST', () => {
  table([
    {
      name: 'restart: executing → 504, successful → 506 and the clear',
      input: [`[${R}] {"status":"executing"}`, `[${R}] {"status":"successful"}`],
      expected: ['[c8y/s/us] 504,1234', '[c8y/s/us] 506,1234', `[${R}] `],
    },
    {
      name: 'failed → 505 with the reason, then the clear',
      input: [`[${R}] {"status":"failed","reason":"Reboot refused"}`],
      expected: ['[c8y/s/us] 505,1234,Reboot refused', `[${R}] `],
    },
    {
      name: 'c8y.smartrest.use_operation_id=false: 501/503/502 by operation name',
      options: { useOperationId: false },
      input: [
        `[${R}] {"status":"executing"}`,
        `[${R}] {"status":"successful"}`,
        '[te/device/main///cmd/firmware_update/c8y-mapper-9] {"status":"failed","reason":"Something went wrong"}',
      ],
      expected: [
        '[c8y/s/us] 501,c8y_Restart',
        '[c8y/s/us] 503,c8y_Restart',
        `[${R}] `,
        '[c8y/s/us] 502,c8y_Firmware,Something went wrong',
        '[te/device/main///cmd/firmware_update/c8y-mapper-9] ',
      ],
    },
    {
      name: 'a reason with a comma and a quote is quoted, quotes doubled',
      input: [`[${R}] {"status":"failed","reason":"Failed to install collectd, and \\"nginx\\""}`],
      expected: ['[c8y/s/us] 505,1234,"Failed to install collectd, and ""nginx"""', `[${R}] `],
    },
    {
      name: 'a reason longer than 500 bytes is cut to 500',
      input: [`[${R}] {"status":"failed","reason":"${'x'.repeat(600)}"}`],
      expected: [`[c8y/s/us] 505,1234,${'x'.repeat(500)}`, `[${R}] `],
    },
    {
      name: 'init, scheduled and unknown statuses are not reported',
      input: [`[${R}] {"status":"init"}`, `[${R}] {}`, `[${R}] {"status":"scheduled"}`, `[${R}] {"status":"restarting"}`],
      expected: [],
    },
    {
      name: 'the same status twice is reported once',
      input: [`[${R}] {"status":"executing"}`, `[${R}] {"status":"scheduled"}`, `[${R}] {"status":"executing","progress":2}`],
      expected: ['[c8y/s/us] 504,1234'],
    },
    {
      name: 'nothing after a terminal status',
      input: [`[${R}] {"status":"successful"}`, `[${R}] {"status":"failed","reason":"late"}`, `[${R}] {"status":"executing"}`, `[${R}] {"status":"successful"}`],
      expected: ['[c8y/s/us] 506,1234', `[${R}] `],
    },
    {
      name: 'the clear (echo of ours) produces nothing and forgets the command',
      input: [`[${R}] {"status":"successful"}`, `[${R}] `, `[${R}] {"status":"successful"}`],
      expected: ['[c8y/s/us] 506,1234', `[${R}] `, '[c8y/s/us] 506,1234', `[${R}] `],
    },
    {
      name: 'commands not created by this mapper are not mapped',
      input: ['[te/device/main///cmd/restart/local-1] {"status":"executing"}', '[te/device/main///cmd/restart/c8y-mapperx] {"status":"executing"}'],
      expected: [],
    },
    {
      name: 'child device → c8y/s/us/<child xid>',
      entities: ['child1'],
      input: ['[te/device/child1///cmd/restart/c8y-mapper-77] {"status":"executing"}', '[te/device/child1///cmd/restart/c8y-mapper-77] {"status":"successful"}'],
      expected: [
        '[c8y/s/us/test-device:device:child1] 504,77',
        '[c8y/s/us/test-device:device:child1] 506,77',
        '[te/device/child1///cmd/restart/c8y-mapper-77] ',
      ],
    },
    {
      name: 'nested child device, by name',
      entities: ['child1', 'nested'],
      options: { useOperationId: false },
      input: ['[te/device/nested///cmd/config_update/c8y-mapper-5] {"status":"executing"}'],
      expected: ['[c8y/s/us/test-device:device:nested] 501,c8y_DownloadConfigFile'],
    },
    {
      name: 'software_update successful → 506, a new software_list request, the clear',
      input: ['[te/device/main///cmd/software_update/c8y-mapper-123] {"status":"successful","updateList":[]}'],
      expected: [
        '[c8y/s/us] 506,123',
        '[te/device/main///cmd/software_list/c8y-mapper-list-1] {"status":"init"}',
        '[te/device/main///cmd/software_update/c8y-mapper-123] ',
      ],
    },
    {
      name: 'software_update failed → 505, a new software_list request, the clear',
      options: { useOperationId: false },
      input: ['[te/device/main///cmd/software_update/c8y-mapper-123] {"status":"failed","reason":"Partial failure: Couldn\'t install collectd and nginx"}'],
      expected: [
        "[c8y/s/us] 502,c8y_SoftwareUpdate,Partial failure: Couldn't install collectd and nginx",
        '[te/device/main///cmd/software_list/c8y-mapper-list-1] {"status":"init"}',
        '[te/device/main///cmd/software_update/c8y-mapper-123] ',
      ],
    },
    {
      name: 'firmware_update successful → 506, the firmware twin, the clear',
      input: ['[te/device/main///cmd/firmware_update/c8y-mapper-1] {"status":"successful","name":"myFirmware","version":"1.0","remoteUrl":"http://www.my.url","tedgeUrl":"http://www.my.url"}'],
      expected: [
        '[c8y/s/us] 506,1',
        '[te/device/main///twin/firmware] {"name":"myFirmware","version":"1.0","url":"http://www.my.url"}',
        '[te/device/main///cmd/firmware_update/c8y-mapper-1] ',
      ],
    },
    {
      name: 'device_profile executing → 504 and 121,false',
      input: ['[te/device/main///cmd/device_profile/c8y-mapper-8] {"status":"executing","name":"p","operations":[]}'],
      expected: ['[c8y/s/us] 504,8', '[c8y/s/us] 121,false'],
    },
    {
      name: 'device_profile successful → firmware twin, software_list, 120 per config, 121,true, 506, the clear',
      input: [
        '[te/device/main///cmd/device_profile/c8y-mapper-8] ' +
          JSON.stringify({
            status: 'successful',
            name: 'prod',
            operations: [
              { operation: 'firmware_update', payload: { name: 'fw', version: '2', remoteUrl: 'http://x/fw' }, '@skip': false },
              { operation: 'config_update', payload: { name: 'collectd-v2', type: 'collectd.conf', remoteUrl: 'http://127.0.0.1:8001/c8y/inventory/binaries/88395', serverUrl: 'https://test.c8y.io/inventory/binaries/88395' }, '@skip': false },
              { operation: 'software_update', payload: { updateList: [] }, '@skip': false },
            ],
          }),
      ],
      expected: [
        '[te/device/main///twin/firmware] {"name":"fw","version":"2","url":"http://x/fw"}',
        '[c8y/s/us] 120,collectd.conf,https://test.c8y.io/inventory/binaries/88395,collectd-v2',
        '[te/device/main///cmd/software_list/c8y-mapper-list-1] {"status":"init"}',
        '[c8y/s/us] 121,true',
        '[c8y/s/us] 506,8',
        '[te/device/main///cmd/device_profile/c8y-mapper-8] ',
      ],
    },
    {
      name: 'device_profile successful: a skipped entry has no cloud-side effect',
      input: [
        '[te/device/main///cmd/device_profile/c8y-mapper-8] ' +
          JSON.stringify({
            status: 'successful',
            name: 'prod',
            operations: [
              { operation: 'firmware_update', payload: { name: 'fw', version: '2', remoteUrl: 'http://x/fw' }, '@skip': true },
              { operation: 'config_update', payload: { name: 'c', type: 'collectd.conf', serverUrl: 'https://test.c8y.io/inventory/binaries/1' }, '@skip': false },
            ],
          }),
      ],
      expected: ['[c8y/s/us] 120,collectd.conf,https://test.c8y.io/inventory/binaries/1,c', '[c8y/s/us] 121,true', '[c8y/s/us] 506,8', '[te/device/main///cmd/device_profile/c8y-mapper-8] '],
    },
    {
      name: 'device_profile failed → software_list, 505, the clear',
      input: ['[te/device/main///cmd/device_profile/c8y-mapper-8] {"status":"failed","reason":"no space"}'],
      expected: [
        '[te/device/main///cmd/software_list/c8y-mapper-list-1] {"status":"init"}',
        '[c8y/s/us] 505,8,no space',
        '[te/device/main///cmd/device_profile/c8y-mapper-8] ',
      ],
    },
    {
      name: 'config_snapshot successful → an upload request (506 comes once uploaded)',
      entities: ['child1'],
      input: [
        '[te/device/child1///cmd/config_snapshot/c8y-mapper-4] {"status":"executing","type":"mosquitto"}',
        '[te/device/child1///cmd/config_snapshot/c8y-mapper-4] {"status":"successful","type":"mosquitto","tedgeUrl":"http://127.0.0.1:8000/te/v1/files/test-device:device:child1/config_snapshot/mosquitto-c8y-mapper-4","path":"/etc/mosquitto/mosquitto.conf"}',
      ],
      expected: [
        '[c8y/s/us/test-device:device:child1] 504,4',
        '[c8y/http/uploads/test-device:device:child1] {"topicId":"device/child1//","operation":"config_snapshot","cmdId":"c8y-mapper-4","externalId":"test-device:device:child1","tedgeUrl":"http://127.0.0.1:8000/te/v1/files/test-device:device:child1/config_snapshot/mosquitto-c8y-mapper-4","eventType":"mosquitto"}',
      ],
    },
    {
      name: 'log_upload failed → 505 and the clear, no upload',
      input: ['[te/device/main///cmd/log_upload/c8y-mapper-6] {"status":"failed","type":"syslog","reason":"no such log"}'],
      expected: ['[c8y/s/us] 505,6,no such log', '[te/device/main///cmd/log_upload/c8y-mapper-6] '],
    },
    {
      name: 'custom operation: 504, then 506 with its result, the clear',
      input: ['[te/device/main///cmd/command/c8y-mapper-1234] {"status":"executing","text":"do something"}', '[te/device/main///cmd/command/c8y-mapper-1234] {"status":"successful","text":"do something","result":"I did something"}'],
      expected: ['[c8y/s/us] 504,1234', '[c8y/s/us] 506,1234,I did something', '[te/device/main///cmd/command/c8y-mapper-1234] '],
    },
    {
      name: 'custom operation by name uses the name from its operation file',
      options: { useOperationId: false, customOperations: [{ name: 'c8y_Command', onFragment: 'c8y_Command', operation: 'command' }] },
      input: ['[te/device/main///cmd/command/c8y-mapper-1] {"status":"failed","reason":"exit 1"}'],
      expected: ['[c8y/s/us] 502,c8y_Command,exit 1', '[te/device/main///cmd/command/c8y-mapper-1] '],
    },
    {
      name: 'custom operation by name without a mapping cannot be named: only the clear',
      options: { useOperationId: false },
      input: ['[te/device/main///cmd/command/c8y-mapper-1] {"status":"executing"}', '[te/device/main///cmd/command/c8y-mapper-1] {"status":"successful"}'],
      expected: ['[te/device/main///cmd/command/c8y-mapper-1] '],
    },
    {
      name: 'software_list successful → advanced software list (140) and the clear',
      input: [
        '[te/device/main///cmd/software_list/c8y-mapper-list-9] ' +
          JSON.stringify({
            status: 'successful',
            currentSoftwareList: [
              { type: 'debian', modules: [{ name: 'a' }, { name: 'b', version: '1.0' }, { name: 'c', url: 'https://foobar.io/c.deb' }, { name: 'd', version: 'beta', url: 'https://foobar.io/d.deb' }] },
              { type: 'apama', modules: [{ name: 'm', url: 'https://foobar.io/m.epl' }] },
            ],
          }),
      ],
      expected: [
        '[c8y/s/us] 140,a,,debian,,b,1.0,debian,,c,,debian,https://foobar.io/c.deb,d,beta,debian,https://foobar.io/d.deb,m,,apama,https://foobar.io/m.epl',
        '[te/device/main///cmd/software_list/c8y-mapper-list-9] ',
      ],
    },
    {
      name: 'software_list executing → nothing; failed → only the clear',
      input: ['[te/device/main///cmd/software_list/c8y-mapper-list-9] {"status":"executing"}', '[te/device/main///cmd/software_list/c8y-mapper-list-9] {"status":"failed","reason":"x"}'],
      expected: ['[te/device/main///cmd/software_list/c8y-mapper-list-9] '],
    },
    {
      name: 'health commands have no Cumulocity side',
      input: ['[te/device/main///cmd/health/c8y-mapper-1] {"status":"successful"}'],
      expected: [],
    },
    {
      name: 'invalid JSON → ConversionError',
      input: [`[${R}] {"status":"executing"`],
      expected: [],
      throws: /^Invalid JSON/,
    },
    {
      name: 'status of an unregistered entity → ConversionError',
      input: ['[te/device/ghost///cmd/restart/c8y-mapper-1] {"status":"executing"}'],
      expected: [],
      throws: /Unknown entity/,
    },
  ]);
});

describe('c8y operations: uploads', () => {
  it('an upload request round-trips and its outcome is 506 with the binary URL, then the clear', () => {
    const { ops } = setup();
    const [req] = feed(ops, '[te/device/main///cmd/log_upload/c8y-mapper-6] {"status":"successful","type":"syslog"}');
    assert.ok(req);
    const request = parseUploadRequest(payloadText(req));
    assert.equal(request.tedgeUrl, 'http://127.0.0.1:8000/te/v1/files/test-device/log_upload/syslog-c8y-mapper-6');
    const out = ops.uploadFinished(request, { ok: true, binaryUrl: 'https://test.c8y.io/event/events/42/binaries' });
    assertFlags(out);
    assert.deepEqual(out.map(formatLine), ['[c8y/s/us] 506,6,https://test.c8y.io/event/events/42/binaries', '[te/device/main///cmd/log_upload/c8y-mapper-6] ']);
  });

  it('a failed upload fails the operation, by name when configured', () => {
    const { ops } = setup({ useOperationId: false });
    const [req] = feed(ops, '[te/device/main///cmd/config_snapshot/c8y-mapper-6] {"status":"successful","type":"collectd"}');
    assert.ok(req);
    const out = ops.uploadFinished(parseUploadRequest(payloadText(req)), { ok: false, reason: 'Upload failed with 404, Not Found' });
    assert.deepEqual(out.map(formatLine), ['[c8y/s/us] 502,c8y_UploadConfigFile,"Upload failed with 404, Not Found"', '[te/device/main///cmd/config_snapshot/c8y-mapper-6] ']);
  });

  it('a repeated successful status does not upload twice', () => {
    const { ops } = setup();
    const line = '[te/device/main///cmd/log_upload/c8y-mapper-6] {"status":"successful","type":"syslog"}';
    assert.equal(feed(ops, line).length, 1);
    assert.equal(feed(ops, line).length, 0);
  });
});

describe('c8y operations: advanced software list chunks', () => {
  it('100 modules per line: 140 first, 141 after', () => {
    const modules = Array.from({ length: 250 }, (_, i) => ({ name: `p${i}`, version: '1' }));
    const lines = advancedSoftwareList({ currentSoftwareList: [{ type: 'apt', modules }] });
    assert.deepEqual(lines.map((l) => l.split(',')[0]), ['140', '141', '141']);
    assert.equal(lines[0]?.split(',').length, 1 + 100 * 4);
    assert.equal(lines[2]?.split(',').length, 1 + 50 * 4);
  });

  it('an empty list clears the list in Cumulocity', () => {
    assert.deepEqual(advancedSoftwareList({ currentSoftwareList: [] }), ['140,,,,']);
  });
});
