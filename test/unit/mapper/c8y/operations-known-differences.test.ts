import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTenantHost, proxyUrl } from '../../../../src/mapper/c8y/operations/urls';
import type { OperationLogRequest } from '../../../../src/mapper/c8y/operations/operation-log';
import { type PrefetchJob, prefetchFailedLines, prefetchedBody } from '../../../../src/mapper/c8y/operations/prefetch';
import { cloudOp, feed, setup, table, testOptions } from './operations-harness';

/** Each row is a behaviour thin-edge.io's own tests expect that this mapper lacked (issue 10, item 7). */
const MAIN = 'test-device';
const CMD = 'te/device/main///cmd';

describe('c8y operations: known differences from thin-edge.io, fixed', () => {
  table([
    {
      name: 'c8y_SupportedSoftwareTypes with c8y.software_management.with_types=true',
      options: { softwareWithTypes: true },
      input: [`[${CMD}/software_list] {"types":["apt","docker"]}`],
      expected: ['[c8y/inventory/managedObjects/update/test-device] {"c8y_SupportedSoftwareTypes":["apt","docker"]}'],
    },
    { name: 'no c8y_SupportedSoftwareTypes by default', input: [`[${CMD}/software_list] {"types":["apt"]}`], expected: [] },
    {
      name: 'a successful config_update sends 120 (type, server URL) before 506',
      input: [`[${CMD}/config_update/c8y-mapper-1234] {"status":"successful","tedgeUrl":"http://localhost:8888/te/v1/files/test-device/config_update/path:type:A-c8y-mapper-1234","remoteUrl":"http://www.my.url","serverUrl":"http://www.my.url","type":"path/type/A"}`],
      expected: ['[c8y/s/us] 120,path/type/A,http://www.my.url', '[c8y/s/us] 506,1234', `[${CMD}/config_update/c8y-mapper-1234] `],
    },
    {
      name: 'the firmware twin carries url, not remoteUrl',
      input: [`[${CMD}/firmware_update/c8y-mapper-1] {"status":"successful","name":"fw","version":"1.0","remoteUrl":"http://www.my.url","tedgeUrl":"http://127.0.0.1:8001/c8y/x"}`],
      expected: ['[c8y/s/us] 506,1', '[te/device/main///twin/firmware] {"name":"fw","version":"1.0","url":"http://www.my.url"}', `[${CMD}/firmware_update/c8y-mapper-1] `],
    },
    {
      name: 'a failed log upload without a reason → Unknown reason (by id)',
      input: [`[${CMD}/log_upload/c8y-mapper-1234] {"status":"failed","type":"typeA"}`],
      expected: ['[c8y/s/us] 505,1234,Unknown reason', `[${CMD}/log_upload/c8y-mapper-1234] `],
    },
    {
      name: 'a failed log upload without a reason → Unknown reason (by name)',
      options: { useOperationId: false },
      input: [`[${CMD}/log_upload/c8y-mapper-1234] {"status":"executing","type":"typeA"}`, `[${CMD}/log_upload/c8y-mapper-1234] {"status":"failed","type":"typeA"}`],
      expected: ['[c8y/s/us] 501,c8y_LogfileRequest', '[c8y/s/us] 502,c8y_LogfileRequest,Unknown reason', `[${CMD}/log_upload/c8y-mapper-1234] `],
    },
    {
      name: 'a URL on another host of the tenant domain (t<id>.<domain>) goes through the local proxy',
      input: [cloudOp(MAIN, '7', { c8y_DownloadConfigFile: { type: 'a', url: 'https://t12345.c8y.io/inventory/binaries/42' } })],
      expected: [`[${CMD}/config_update/c8y-mapper-7] {"status":"init","type":"a","remoteUrl":"http://127.0.0.1:8001/c8y/inventory/binaries/42","serverUrl":"https://t12345.c8y.io/inventory/binaries/42"}`],
    },
    {
      name: 'a redelivered cloud operation does not create a second command, also after a restart (its retained command seen first)',
      input: [`[${CMD}/restart/c8y-mapper-99] {"status":"executing"}`, cloudOp(MAIN, '99', { c8y_Restart: {} })],
      expected: ['[c8y/s/us] 504,99'],
    },
    {
      name: 'a custom workflow operation reports by the c8y-mapper fragment, with its output excerpt',
      input: [
        `[${CMD}/command/c8y-mapper-5] {"status":"executing","c8y-mapper":{"on_fragment":"c8y_Command","output":"\${.payload.result}"}}`,
        `[${CMD}/command/c8y-mapper-5] {"status":"successful","result":"done, all","c8y-mapper":{"on_fragment":"c8y_Command","output":"\${.payload.result}"}}`,
      ],
      expected: ['[c8y/s/us] 504,5', '[c8y/s/us] 506,5,"done, all"', `[${CMD}/command/c8y-mapper-5] `],
    },
    {
      name: 'a marked custom command reported by name uses its on_fragment',
      options: { useOperationId: false },
      input: [
        `[${CMD}/command/c8y-mapper-5] {"status":"executing","c8y-mapper":{"on_fragment":"c8y_Command","output":null}}`,
        `[${CMD}/command/c8y-mapper-5] {"status":"failed","reason":"boom","c8y-mapper":{"on_fragment":"c8y_Command","output":null}}`,
      ],
      expected: ['[c8y/s/us] 501,c8y_Command', '[c8y/s/us] 502,c8y_Command,boom', `[${CMD}/command/c8y-mapper-5] `],
    },
    {
      name: 'an output excerpt that is a list → one field per item; a number fails the operation',
      input: [
        `[${CMD}/a/c8y-mapper-1] {"status":"successful","xs":["a","b"],"c8y-mapper":{"on_fragment":"c8y_A","output":"\${.payload.xs}"}}`,
        `[${CMD}/b/c8y-mapper-2] {"status":"successful","n":3,"c8y-mapper":{"on_fragment":"c8y_B","output":"\${.payload.n}"}}`,
      ],
      expected: ['[c8y/s/us] 506,1,a,b', `[${CMD}/a/c8y-mapper-1] `, "[c8y/s/us] 505,2,'output' supports only String or Array", `[${CMD}/b/c8y-mapper-2] `],
    },
    {
      name: 'software list, legacy API: inventory c8y_SoftwareList, over HTTP as thin-edge sends it (any size)',
      options: { softwareApi: 'legacy' },
      input: [`[${CMD}/software_list/c8y-mapper-list-9] {"status":"successful","currentSoftwareList":[{"type":"debian","modules":[{"name":"a"},{"name":"b","version":"1.0","url":"https://x/b.deb"}]}]}`],
      expected: [
        '[c8y/http/inventory/update/test-device] {"c8y_SoftwareList":[{"name":"a","softwareType":"debian","url":""},{"name":"b","version":"1.0","softwareType":"debian","url":"https://x/b.deb"}]}',
        `[${CMD}/software_list/c8y-mapper-list-9] `,
      ],
    },
  ]);

  it('c8y.operations.auto_log_upload: on-failure uploads a failed command log as <op>_op_log; always every finished one; never none', () => {
    const run = (policy: 'never' | 'always' | 'on-failure', final: string): OperationLogRequest[] => {
      const got: OperationLogRequest[] = [];
      const { ops } = setup({ autoLogUpload: policy, uploadOperationLog: (r) => got.push(r), operationLogPath: (op, id) => `/logs/agent/workflow-${op}-${id}.log` });
      feed(ops, `[${CMD}/restart/c8y-mapper-1] {"status":"executing"}`);
      feed(ops, `[${CMD}/restart/c8y-mapper-1] ${final}`);
      return got;
    };
    const failed = '{"status":"failed","reason":"x"}';
    assert.deepEqual(run('on-failure', failed), [{ externalId: MAIN, operation: 'restart', cmdId: 'c8y-mapper-1', logPath: '/logs/agent/workflow-restart-c8y-mapper-1.log', eventType: 'restart_op_log', text: 'restart operation log' }]);
    assert.deepEqual(run('on-failure', '{"status":"successful"}'), []);
    assert.equal(run('always', '{"status":"successful"}').length, 1);
    assert.deepEqual(run('never', failed), []);
    assert.equal(run('always', '{"status":"successful","logPath":"/elsewhere.log"}')[0]?.logPath, '/elsewhere.log');
  });

  it('a tenant binary of config_update / firmware_update is copied into the file transfer service before the command; other URLs are not', () => {
    const jobs: PrefetchJob[] = [];
    const { ops } = setup({ prefetch: (j) => jobs.push(j) });
    assert.deepEqual(feed(ops, cloudOp(MAIN, '5', { c8y_DownloadConfigFile: { type: '/etc/a.conf', url: 'https://test.c8y.io/inventory/binaries/42' } })), []);
    assert.deepEqual(jobs[0], {
      url: 'https://test.c8y.io/inventory/binaries/42',
      path: 'test-device/config_update/:etc:a.conf-c8y-mapper-5',
      commandTopic: `${CMD}/config_update/c8y-mapper-5`,
      body: { status: 'init', type: '/etc/a.conf', remoteUrl: 'http://127.0.0.1:8001/c8y/inventory/binaries/42', serverUrl: 'https://test.c8y.io/inventory/binaries/42' },
      ref: { by: 'id', opid: '5' },
      smartrestTopic: 'c8y/s/us',
    });
    assert.equal(feed(ops, cloudOp(MAIN, '6', { c8y_Firmware: { name: 'fw', version: '1', url: 'https://test.c8y.io/inventory/binaries/7' } })).length, 0);
    assert.equal(jobs[1]?.path, 'test-device/firmware_update/fw-c8y-mapper-6');
    assert.equal(feed(ops, cloudOp(MAIN, '7', { c8y_Firmware: { name: 'fw', version: '1', url: 'https://example.com/fw.bin' } })).length, 1, 'an external URL: the command at once');
    const job = jobs[0];
    assert.ok(job);
    assert.deepEqual(prefetchedBody(job, 'http://127.0.0.1:8000/te/v1/files/x')['tedgeUrl'], 'http://127.0.0.1:8000/te/v1/files/x');
    assert.deepEqual(prefetchFailedLines(job, 'HTTP 404'), ['504,5', '505,5,Failed to download https://test.c8y.io/inventory/binaries/42: HTTP 404']);
  });

  it('tenant hosts: the host itself, or a name in its domain; IP addresses only exactly', () => {
    assert.equal(isTenantHost('t123.c8y.io', ['sample.c8y.io']), true);
    assert.equal(isTenantHost('sample.c8y.io', ['sample.c8y.io:443']), true);
    assert.equal(isTenantHost('example.com', ['sample.c8y.io']), false);
    assert.equal(isTenantHost('127.0.0.1', ['127.0.0.1']), true);
    assert.equal(isTenantHost('127.0.0.2', ['127.0.0.1']), false);
    const opts = { ...testOptions(), c8yHost: undefined, c8yHosts: ['tenant.example.net:8443'] };
    assert.equal(proxyUrl('https://t1.example.net/inventory/binaries/9?x=1', opts), 'http://127.0.0.1:8001/c8y/inventory/binaries/9?x=1');
    assert.equal(proxyUrl('ftp://tenant.example.net/x', opts), 'ftp://tenant.example.net/x');
    assert.equal(proxyUrl('not a url', opts), 'not a url');
  });
});
