import { describe } from 'node:test';
import { C8yConverter, type C8yConverterOptions } from '../../../../src/mapper/c8y/converter';
import { converterTable } from '../../../helpers/converter-table';
import { SMARTREST_TOPIC, table } from './operations-harness';

const MAIN = 'test-device';
const CHILD = 'test-device:device:child1';
const ds = (line: string): string => `[${SMARTREST_TOPIC}] ${line}`;
/** Commands from SmartREST templates get `c8y-mapper-smartrest-<id>`: the harness's ids are `list-<n>`. */
const cmd = (op: string, n = 1, entity = 'device/main//'): string => `te/${entity}/cmd/${op}/c8y-mapper-smartrest-list-${n}`;

describe('c8y operations: SmartREST templates (c8y/s/ds) → te/ commands', () => {
  table([
    { name: '510 restart of the main device', input: [ds(`510,${MAIN}`)], expected: [`[${cmd('restart')}] {"status":"init"}`] },
    { name: '510 restart of a child device, by its external id', entities: ['child1'], input: [ds(`510,${CHILD}`)], expected: [`[${cmd('restart', 1, 'device/child1//')}] {"status":"init"}`] },
    {
      name: '528 software update: name,version,url,action per module, version::type, tenant URL through the proxy',
      input: [ds(`528,${MAIN},nginx,1.21::apt,https://test.c8y.io/inventory/binaries/1,install,vim,,,delete`)],
      expected: [
        `[${cmd('software_update')}] {"status":"init","updateList":[{"type":"apt","modules":[{"name":"nginx","version":"1.21","url":"http://127.0.0.1:8001/c8y/inventory/binaries/1","action":"install"}]},{"type":"default","modules":[{"name":"vim","action":"remove"}]}]}`,
      ],
    },
    {
      name: '522 log request: type, dates (offset fixed to RFC 3339), search text, lines',
      input: [ds(`522,${MAIN},syslog,2021-09-21T11:40:27+0200,2021-09-22T11:40:27+0200,ERROR,200`)],
      expected: [
        `[${cmd('log_upload')}] {"status":"init","type":"syslog","tedgeUrl":"http://127.0.0.1:8000/te/v1/files/test-device/log_upload/syslog-c8y-mapper-smartrest-list-1","dateFrom":"2021-09-21T11:40:27+02:00","dateTo":"2021-09-22T11:40:27+02:00","searchText":"ERROR","lines":200}`,
      ],
    },
    {
      name: '524 config download: url, type',
      input: [ds(`524,${MAIN},https://test.c8y.io/inventory/binaries/70208,/etc/tedge/tedge.toml`)],
      expected: [`[${cmd('config_update')}] {"status":"init","type":"/etc/tedge/tedge.toml","remoteUrl":"http://127.0.0.1:8001/c8y/inventory/binaries/70208","serverUrl":"https://test.c8y.io/inventory/binaries/70208"}`],
    },
    {
      name: '526 config upload of a child: type',
      entities: ['child1'],
      input: [ds(`526,${CHILD},mosquitto`)],
      expected: [`[${cmd('config_snapshot', 1, 'device/child1//')}] {"status":"init","type":"mosquitto","tedgeUrl":"http://127.0.0.1:8000/te/v1/files/${CHILD}/config_snapshot/mosquitto-c8y-mapper-smartrest-list-1"}`],
    },
    {
      name: '515 firmware: name, version, url',
      input: [ds(`515,${MAIN},myFirmware,1.0,http://www.my.url`)],
      expected: [`[${cmd('firmware_update')}] {"status":"init","tedgeUrl":"http://www.my.url","remoteUrl":"http://www.my.url","name":"myFirmware","version":"1.0"}`],
    },
    {
      name: 'quoted CSV fields, two lines in one message',
      input: [ds(`522,${MAIN},syslog,2021-09-21T11:40:27+0200,2021-09-22T11:40:27+0200,"a, ""b""",5\n510,${MAIN}`)],
      expected: [
        `[${cmd('log_upload')}] {"status":"init","type":"syslog","tedgeUrl":"http://127.0.0.1:8000/te/v1/files/test-device/log_upload/syslog-c8y-mapper-smartrest-list-1","dateFrom":"2021-09-21T11:40:27+02:00","dateTo":"2021-09-22T11:40:27+02:00","searchText":"a, \\"b\\"","lines":5}`,
        `[${cmd('restart', 2)}] {"status":"init"}`,
      ],
    },
    {
      name: 'a malformed template is failed by name (501, 502) where the cloud sees it',
      input: [ds(`528,${MAIN},nginx,1.0`)],
      expected: ['[c8y/s/us] 501,c8y_SoftwareUpdate', '[c8y/s/us] 502,c8y_SoftwareUpdate,"Invalid SmartREST 528: expected name,version,url,action per module, found 2 fields"'],
    },
    {
      name: 'a bad action in 528 is failed by name',
      input: [ds(`528,${MAIN},nginx,1.0,,upgrade`)],
      expected: ['[c8y/s/us] 501,c8y_SoftwareUpdate', '[c8y/s/us] 502,c8y_SoftwareUpdate,Parameter upgrade is not recognized. It must be install or delete.'],
    },
    { name: 'templates without a handler are ignored', input: [ds(`71,abc`), ds(`999,${MAIN},x`)], expected: [] },
    { name: 'a builtin template for an unknown device → ConversionError', input: [ds('510,nobody')], expected: [], throws: /no registered entity has the external id 'nobody'/ },
  ]);
});

describe('c8y operations: SmartREST-originated commands report by name, also with use_operation_id', () => {
  table([
    {
      name: 'restart from 510: executing → 501, successful → 503, the clear',
      input: [ds(`510,${MAIN}`), `[${cmd('restart')}] {"status":"executing"}`, `[${cmd('restart')}] {"status":"successful"}`],
      expected: [`[${cmd('restart')}] {"status":"init"}`, '[c8y/s/us] 501,c8y_Restart', '[c8y/s/us] 503,c8y_Restart', `[${cmd('restart')}] `],
    },
    {
      name: 'a child restart from 510 reports on the child topic; a failure without reason says Unknown reason',
      entities: ['child1'],
      input: [ds(`510,${CHILD}`), `[${cmd('restart', 1, 'device/child1//')}] {"status":"failed"}`],
      expected: [`[${cmd('restart', 1, 'device/child1//')}] {"status":"init"}`, `[c8y/s/us/${CHILD}] 502,c8y_Restart,Unknown reason`, `[${cmd('restart', 1, 'device/child1//')}] `],
    },
  ]);
});

/** The same through the whole converter: the `c8y/s/ds` input is routed to the operations, and the status back. */
describe('c8y converter: operations both ways through the dispatcher', () => {
  const OPTIONS: C8yConverterOptions = {
    deviceId: MAIN, prefix: 'c8y', topicRoot: 'te', topics: ['te/+/+/+/+'], maxPayloadSize: 16184, earlyMessageLimit: 3,
    createWithDeviceMarker: false, serviceType: 'service', useOperationId: true, enabled: () => true,
    fileTransferBase: 'http://127.0.0.1:8000/te/v1/files', c8yProxyBase: 'http://127.0.0.1:8001/c8y', c8yHost: 'test.c8y.io',
    newCommandId: () => 'c8y-mapper-x',
  };
  const KID = '[te/device/kid//] {"@type":"child-device"}';
  converterTable(() => new C8yConverter(OPTIONS), new Date('2026-01-01T00:00:00Z'), [
    { name: 's/ds 510 for a child → its restart command', given: [KID], input: `[c8y/s/ds] 510,${MAIN}:device:kid`, output: ['[te/device/kid///cmd/restart/c8y-mapper-smartrest-x] {"status":"init"}'] },
    { name: 'its executing status → 501 on the child topic', given: [KID], input: '[te/device/kid///cmd/restart/c8y-mapper-smartrest-x] {"status":"executing"}', output: [`[c8y/s/us/${MAIN}:device:kid] 501,c8y_Restart`] },
    {
      name: 'JSON operation for the child → its command; success by id on the child topic, then the clear',
      given: [KID, `[c8y/devicecontrol/notifications] {"id":"9","c8y_Restart":{},"externalSource":{"externalId":"${MAIN}:device:kid","type":"c8y_Serial"}}`],
      input: '[te/device/kid///cmd/restart/c8y-mapper-9] {"status":"successful"}',
      output: [`[c8y/s/us/${MAIN}:device:kid] 506,9`, '[te/device/kid///cmd/restart/c8y-mapper-9] '],
    },
  ]);
});
