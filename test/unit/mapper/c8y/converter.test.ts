import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { message } from '../../../../src/core/message';
import { C8yConverter, type C8yConverterOptions } from '../../../../src/mapper/c8y/converter';
import { converterTable, rejectTable } from '../../../helpers/converter-table';

const NOW = new Date('2026-01-02T03:04:05.678Z');
const T = '2026-01-02T03:04:05.678Z';

const OPTIONS: C8yConverterOptions = {
  deviceId: 'test-device',
  prefix: 'c8y',
  topicRoot: 'te',
  topics: [],
  maxPayloadSize: 16184,
  earlyMessageLimit: 3,
  createWithDeviceMarker: false,
  serviceType: 'service',
  useOperationId: true,
  enabled: () => true,
  fileTransferBase: 'http://127.0.0.1:8000/te/v1/files',
  c8yProxyBase: 'http://127.0.0.1:8001/c8y',
  c8yHost: 'example.c8y.io',
};
const make = (opts: Partial<C8yConverterOptions> = {}) => () => new C8yConverter({ ...OPTIONS, ...opts });

const CHILD = '[te/device/child01//] {"@type":"child-device","name":"child01","type":"SmartHomeHub"}';
const SERVICE = '[te/device/main/service/nodered] {"@type":"service","name":"Node-Red","type":"systemd"}';
const CHILD_SERVICE = '[te/device/child01/service/nodered] {"@type":"service","name":"Node-Red","type":"systemd"}';
const XS_CHILD = '"externalSource":{"externalId":"test-device:device:child01","type":"c8y_Serial"}';

describe('c8y mapper: measurements', () => {
  converterTable(make(), NOW, [
    {
      name: 'maps a main-device measurement with the topic type and adds the time',
      input: '[te/device/main///m/environment] {"temperature":23.4}',
      output: [`[c8y/measurement/measurements/create] {"type":"environment","time":"${T}","temperature":{"temperature":{"value":23.4}}}`],
    },
    {
      name: 'uses ThinEdgeMeasurement for an empty topic type and keeps the given time',
      input: '[te/device/main///m/] {"temperature":25,"time":"2021-04-30T17:03:14.123+02:00"}',
      output: ['[c8y/measurement/measurements/create] {"type":"ThinEdgeMeasurement","time":"2021-04-30T17:03:14.123+02:00","temperature":{"temperature":{"value":25}}}'],
    },
    {
      name: 'takes the type from a string "type" in the payload over the topic',
      input: '[te/device/main///m/env] {"type":"custom","t":1}',
      output: [`[c8y/measurement/measurements/create] {"type":"custom","time":"${T}","t":{"t":{"value":1}}}`],
    },
    {
      name: 'maps groups and converts unix time',
      input: '[te/device/main///m/] {"time":1619802194,"Climate":{"Humidity":95,"Temp":20.5}}',
      output: ['[c8y/measurement/measurements/create] {"type":"ThinEdgeMeasurement","time":"2021-04-30T17:03:14Z","Climate":{"Humidity":{"value":95},"Temp":{"value":20.5}}}'],
    },
    {
      name: 'adds units from the retained meta topic, also for group members',
      given: ['[te/device/main///m/battery/meta] {"voltage":{"unit":"V"},"Climate.Temp":{"unit":"°C"}}'],
      input: '[te/device/main///m/battery] {"voltage":3.3,"Climate":{"Temp":20},"current":1}',
      output: [`[c8y/measurement/measurements/create] {"type":"battery","time":"${T}","voltage":{"voltage":{"value":3.3,"unit":"V"}},"Climate":{"Temp":{"value":20,"unit":"°C"}},"current":{"current":{"value":1}}}`],
    },
    {
      name: 'merges properties as top-level fragments',
      input: '[te/device/main///m/env] {"temperature":23.4,"properties":{"sensor":"DS18B20"}}',
      output: [`[c8y/measurement/measurements/create] {"type":"env","time":"${T}","temperature":{"temperature":{"value":23.4}},"sensor":"DS18B20"}`],
    },
    {
      name: 'adds externalSource for a child device',
      given: [CHILD],
      input: '[te/device/child01///m/env] {"temperature":23.4}',
      output: [`[c8y/measurement/measurements/create] {${XS_CHILD},"type":"env","time":"${T}","temperature":{"temperature":{"value":23.4}}}`],
    },
    {
      name: 'adds externalSource for a service of the main device',
      given: [SERVICE],
      input: '[te/device/main/service/nodered/m/] {"uptime":10}',
      output: [`[c8y/measurement/measurements/create] {"externalSource":{"externalId":"test-device:device:main:service:nodered","type":"c8y_Serial"},"type":"ThinEdgeMeasurement","time":"${T}","uptime":{"uptime":{"value":10}}}`],
    },
    {
      name: 'uses @id as the external id',
      given: ['[te/device/child02//] {"@type":"child-device","@id":"child-xid"}'],
      input: '[te/device/child02///m/] {"t":1}',
      output: [`[c8y/measurement/measurements/create] {"externalSource":{"externalId":"child-xid","type":"c8y_Serial"},"type":"ThinEdgeMeasurement","time":"${T}","t":{"t":{"value":1}}}`],
    },
    {
      name: 'holds the measurement of an unregistered entity (nothing out yet)',
      input: '[te/device/unknown///m/] {"t":1}',
      output: [],
    },
    {
      name: 'releases held measurements when the registration arrives, after the 101',
      given: ['[te/device/late///m/] {"t":1}', '[te/device/late///m/] {"t":2}'],
      input: '[te/device/late//] {"@type":"child-device"}',
      output: [
        '[c8y/s/us] 101,test-device:device:late,test-device:device:late,thin-edge.io-child,false',
        `[c8y/measurement/measurements/create] {"externalSource":{"externalId":"test-device:device:late","type":"c8y_Serial"},"type":"ThinEdgeMeasurement","time":"${T}","t":{"t":{"value":1}}}`,
        `[c8y/measurement/measurements/create] {"externalSource":{"externalId":"test-device:device:late","type":"c8y_Serial"},"type":"ThinEdgeMeasurement","time":"${T}","t":{"t":{"value":2}}}`,
      ],
    },
    {
      name: 'drops the oldest held message past the limit and says so on te/errors',
      given: ['[te/device/a///m/] {"t":1}', '[te/device/a///m/] {"t":2}', '[te/device/b///m/] {"t":3}'],
      input: '[te/device/b///m/] {"t":4}',
      output: ["[te/errors] Dropped 1 message(s) of unregistered entities (early-message cache full, 1 dropped in all); latest held: 'te/device/b///m/'"],
    },
  ]);

  rejectTable(make(), NOW, [
    { name: 'rejects an invalid measurement naming the cause', input: '[te/device/main///m/] {"t":true}', error: /invalid type: boolean/ },
    { name: 'rejects malformed JSON', input: '[te/device/main///m/] {"t":1', error: /Invalid JSON/ },
    { name: 'rejects an empty measurement', input: '[te/device/main///m/] {}', error: /at least one measurement/ },
    { name: 'rejects a series named externalSource', input: '[te/device/main///m/] {"externalSource":1}', error: /externalSource/ },
    { name: 'rejects a measurement larger than the cloud limit once converted', input: `[te/device/main///m/] {${Array.from({ length: 400 }, (_, i) => `"series_${i}":${i}`).join(',')}}`, error: /above the limit of 16184/ },
    { name: 'rejects an unknown channel', input: '[te/device/main///unknown/x] {}', error: /Unknown topic or channel/ },
  ]);
});

describe('c8y mapper: events', () => {
  converterTable(make(), NOW, [
    {
      name: 'maps a text-only main-device event to SmartREST 400',
      input: '[te/device/main///e/login_event] {"text":"A user just logged in","time":"2021-01-01T05:30:45+00:00"}',
      output: ['[c8y/s/us] 400,login_event,"A user just logged in",2021-01-01T05:30:45+00:00'],
    },
    {
      name: 'defaults the text to the type and the type to ThinEdgeEvent, adds the time',
      input: '[te/device/main///e/] {}',
      output: [`[c8y/s/us] 400,ThinEdgeEvent,"ThinEdgeEvent",${T}`],
    },
    {
      name: 'maps an event with custom fragments to JSON',
      input: '[te/device/main///e/login] {"text":"hi","someOtherCustomFragment":{"nested":{"value":"extra info"}}}',
      output: [`[c8y/event/events/create] {"type":"login","text":"hi","time":"${T}","someOtherCustomFragment":{"nested":{"value":"extra info"}}}`],
    },
    {
      name: 'maps a child-device event to JSON with externalSource',
      given: [CHILD],
      input: '[te/device/child01///e/door] {"text":"open"}',
      output: [`[c8y/event/events/create] {${XS_CHILD},"type":"door","text":"open","time":"${T}"}`],
    },
    {
      name: 'sends an oversized event to the HTTP topic of its entity',
      input: `[te/device/main///e/big] {"text":"x","blob":"${'a'.repeat(17000)}"}`,
      output: [`[c8y/http/events/create/test-device] {"type":"big","text":"x","time":"${T}","blob":"${'a'.repeat(17000)}"}`],
    },
  ]);
  rejectTable(make(), NOW, [{ name: 'rejects a non-string text', input: '[te/device/main///e/x] {"text":5}', error: /"text" must be a string/ }]);
});

describe('c8y mapper: alarms', () => {
  converterTable(make(), NOW, [
    {
      name: 'maps a critical alarm to 301',
      input: '[te/device/main///a/temperature_high] {"text":"Temperature is very high","severity":"critical","time":"2021-01-01T05:30:45+00:00"}',
      output: ['[c8y/s/us] 301,temperature_high,Temperature is very high,2021-01-01T05:30:45+00:00'],
    },
    { name: 'maps major to 302', input: '[te/device/main///a/x] {"severity":"major","text":"t","time":"2021-01-01T05:30:45Z"}', output: ['[c8y/s/us] 302,x,t,2021-01-01T05:30:45Z'] },
    { name: 'maps warning to 304 and quotes a text with commas', input: '[te/device/main///a/temperature_alarm] {"severity":"warning","text":"I, raised, it","time":"2021-01-01T05:30:45Z"}', output: ['[c8y/s/us] 304,temperature_alarm,"I, raised, it",2021-01-01T05:30:45Z'] },
    { name: 'defaults severity to minor (303), text to type, adds time', input: '[te/device/main///a/door] {}', output: [`[c8y/s/us] 303,door,door,${T}`] },
    { name: 'treats an unknown severity as minor', input: '[te/device/main///a/door] {"severity":"apocalyptic"}', output: [`[c8y/s/us] 303,door,door,${T}`] },
    { name: 'defaults the type of an empty topic type to ThinEdgeAlarm', input: '[te/device/main///a/] {"severity":"major"}', output: [`[c8y/s/us] 302,ThinEdgeAlarm,ThinEdgeAlarm,${T}`] },
    { name: 'clears an alarm with 306', input: '[te/device/main///a/temperature_high] ', output: ['[c8y/s/us] 306,temperature_high'] },
    { name: 'sends a child alarm on the child SmartREST topic', given: [CHILD], input: '[te/device/child01///a/low] {"severity":"major","text":"low","time":"2021-01-01T05:30:45Z"}', output: ['[c8y/s/us/test-device:device:child01] 302,low,low,2021-01-01T05:30:45Z'] },
    { name: 'clears a child alarm on the child SmartREST topic', given: [CHILD], input: '[te/device/child01///a/low] ', output: ['[c8y/s/us/test-device:device:child01] 306,low'] },
    {
      name: 'maps an alarm with custom fragments to JSON',
      given: [CHILD],
      input: '[te/device/child01///a/pressure_alarm] {"severity":"major","text":"p","time":"2021-01-01T05:30:45Z","customFragment":{"a":1}}',
      output: [`[c8y/alarm/alarms/create] {${XS_CHILD},"type":"pressure_alarm","severity":"MAJOR","time":"2021-01-01T05:30:45Z","text":"p","customFragment":{"a":1}}`],
    },
  ]);
});

describe('c8y mapper: registrations, health and twin', () => {
  converterTable(make(), NOW, [
    { name: 'registers a child device with 101', input: CHILD, output: ['[c8y/s/us] 101,test-device:device:child01,child01,SmartHomeHub,false'] },
    { name: 'registers a child device with its @id', input: '[te/device/child01//] {"@type":"child-device","@id":"child01","name":"child01","type":"SmartHomeHub"}', output: ['[c8y/s/us] 101,child01,child01,SmartHomeHub,false'] },
    { name: 'uses the device marker setting in 101', input: '[te/device/c//] {"@type":"child-device"}', output: ['[c8y/s/us] 101,test-device:device:c,test-device:device:c,thin-edge.io-child,false'] },
    {
      name: 'registers a nested child on its parent SmartREST topic',
      given: [CHILD],
      input: '[te/device/nested_child01//] {"@type":"child-device","@parent":"device/child01//","name":"nested_child01","type":"BatterySensor"}',
      output: ['[c8y/s/us/test-device:device:child01] 101,test-device:device:nested_child01,nested_child01,BatterySensor,false'],
    },
    {
      name: 'registers a nested child that arrived before its parent once the parent comes',
      given: ['[te/device/nested//] {"@type":"child-device","@parent":"device/parent//"}'],
      input: '[te/device/parent//] {"@type":"child-device"}',
      output: ['[c8y/s/us] 101,test-device:device:parent,test-device:device:parent,thin-edge.io-child,false', '[c8y/s/us/test-device:device:parent] 101,test-device:device:nested,test-device:device:nested,thin-edge.io-child,false'],
    },
    { name: 'registers a service of the main device with 102', input: SERVICE, output: ['[c8y/s/us] 102,test-device:device:main:service:nodered,systemd,Node-Red,up'] },
    { name: 'registers a service of a child on the child topic', given: [CHILD], input: CHILD_SERVICE, output: ['[c8y/s/us/test-device:device:child01] 102,test-device:device:child01:service:nodered,systemd,Node-Red,up'] },
    { name: 'does not map the main device registration', input: '[te/device/main//] {"@type":"device","type":"Gateway"}', output: [] },
    { name: 'does not repeat 101 when a registration is republished', given: [CHILD], input: CHILD, output: [] },
    { name: 'maps service health to 102', given: [SERVICE], input: '[te/device/main/service/nodered/status/health] {"status":"down","pid":1}', output: ['[c8y/s/us] 102,test-device:device:main:service:nodered,systemd,Node-Red,down'] },
    { name: 'reports a missing status as unknown', given: [SERVICE], input: '[te/device/main/service/nodered/status/health] {}', output: ['[c8y/s/us] 102,test-device:device:main:service:nodered,systemd,Node-Red,unknown'] },
    {
      // The built-in bridge sends its own 500 right after each cloud connect (src/bridge), so no second one here.
      name: 'maps the built-in bridge health without asking for pending operations again',
      given: ['[te/device/main/service/tedge-mapper-bridge-c8y] {"@type":"service"}'],
      input: '[te/device/main/service/tedge-mapper-bridge-c8y/status/health] {"status":"up"}',
      output: ['[c8y/s/us] 102,test-device:device:main:service:tedge-mapper-bridge-c8y,service,tedge-mapper-bridge-c8y,up'],
    },
    { name: 'maps mosquitto bridge notification 1 to up', given: ['[te/device/main/service/mosquitto-c8y-bridge] {"@type":"service"}'], input: '[te/device/main/service/mosquitto-c8y-bridge/status/health] 1', output: ['[c8y/s/us] 102,test-device:device:main:service:mosquitto-c8y-bridge,service,mosquitto-c8y-bridge,up', '[c8y/s/us] 500'] },
    { name: 'maps twin data to an inventory update', input: '[te/device/main///twin/device_OS] {"family":"Debian","version":"11"}', output: ['[c8y/inventory/managedObjects/update/test-device] {"device_OS":{"family":"Debian","version":"11"}}'] },
    { name: 'maps a root-level twin value', given: [CHILD], input: '[te/device/child01///twin/subtype] "my-custom-type"', output: ['[c8y/inventory/managedObjects/update/test-device:device:child01] {"subtype":"my-custom-type"}'] },
    { name: 'maps an empty twin to null', input: '[te/device/main///twin/x] ', output: ['[c8y/inventory/managedObjects/update/test-device] {"x":null}'] },
    { name: 'renames firmware to c8y_Firmware', input: '[te/device/main///twin/firmware] {"name":"fw","version":"1"}', output: ['[c8y/inventory/managedObjects/update/test-device] {"c8y_Firmware":{"name":"fw","version":"1"}}'] },
    { name: 'renames agent to c8y_Agent', input: '[te/device/main///twin/agent] {"name":"tedge"}', output: ['[c8y/inventory/managedObjects/update/test-device] {"c8y_Agent":{"name":"tedge"}}'] },
    { name: 'renames type to serviceType for services', given: [SERVICE], input: '[te/device/main/service/nodered/twin/type] "container"', output: ['[c8y/inventory/managedObjects/update/test-device:device:main:service:nodered] {"serviceType":"container"}'] },
    // Known difference fixed: the agent republishes a registration's name and type as twin data; 101/102 carried them.
    { name: 'a child twin name equal to the registered one is not sent again', given: [CHILD], input: '[te/device/child01///twin/name] "child01"', output: [] },
    { name: 'a service twin type equal to the registered one is not sent again', given: [SERVICE], input: '[te/device/main/service/nodered/twin/type] "systemd"', output: [] },
    { name: 'a changed name is sent', given: [CHILD, '[te/device/child01///twin/name] "child01"'], input: '[te/device/child01///twin/name] "renamed"', output: ['[c8y/inventory/managedObjects/update/test-device:device:child01] {"name":"renamed"}'] },
    { name: 'the same twin object in another key order is a repeat', given: ['[te/device/main///twin/os] {"family":"Debian","version":"11"}'], input: '[te/device/main///twin/os] {"version":"11","family":"Debian"}', output: [] },
    { name: 'suppresses a repeated twin value', given: ['[te/device/main///twin/x] 1'], input: '[te/device/main///twin/x] 1', output: [] },
  ]);
  rejectTable(make(), NOW, [
    { name: 'rejects a registration without @type', input: '[te/device/x//] {"name":"x"}', error: /"@type"/ },
    { name: 'rejects a registration that is not JSON', input: '[te/device/x//] not json', error: /Invalid JSON/ },
    { name: 'rejects a twin value that is not JSON', input: '[te/device/main///twin/x] {oops', error: /Invalid twin value/ },
    { name: 'rejects an @id with an MQTT wildcard +', input: '[te/device/x//] {"@type":"child-device","@id":"bad+id"}', error: /Invalid external id 'bad\+id'.*'\+'/ },
    { name: 'rejects an @id with an MQTT wildcard #', input: '[te/device/x//] {"@type":"child-device","@id":"bad#"}', error: /Invalid external id 'bad#'/ },
    { name: 'rejects an @id with a /', input: '[te/device/x//] {"@type":"child-device","@id":"a/b"}', error: /Invalid external id 'a\/b'/ },
  ]);
});

describe('c8y mapper: hostile input', () => {
  it('rejects malformed UTF-8 with a clear cause', () => {
    assert.throws(() => make()().convert(message('te/device/main///m/', new Uint8Array([0x7b, 0xff, 0x7d])), NOW), /Invalid UTF-8/);
  });
  it('rejects deep nesting without recursing into it', () => {
    const deep = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
    assert.throws(() => make()().convert(message('te/device/main///m/', deep), NOW), /nesting deeper than 64/);
  });
  it('rejects a 1 MB payload of garbage with a clear cause', () => {
    assert.throws(() => make()().convert(message('te/device/main///m/', 'x'.repeat(1 << 20)), NOW), /Invalid JSON/);
  });
  it('rejects a huge number as out of range', () => {
    assert.throws(() => make()().convert(message('te/device/main///m/', '{"t":1e999}'), NOW), /number out of range/);
  });
});
