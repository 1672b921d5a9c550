import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatLine, parseLine } from '../../../../src/core/message';
import { splitWords } from '../../../../src/mapper/c8y/operations/argv';
import { type ExecRequest, execEndLines, execStartLines, jsonArgv } from '../../../../src/mapper/c8y/operations/exec';
import { loadOperationsDirectory } from '../../../../src/mapper/c8y/operations/load-operations-dir';
import { operationFile } from '../../../../src/mapper/c8y/operations/operation-file';
import type { OperationsDirectory } from '../../../../src/mapper/c8y/operations/operations-dir';
import { parseToml } from '../../../../src/config/toml';
import { C8yConverter } from '../../../../src/mapper/c8y/converter';
import { SMARTREST_TOPIC, SYNC_TOPIC, cloudOp, feed, setup, table } from './operations-harness';

const MAIN = 'test-device';
const CHILD = 'test-device:device:child1';
const file = (name: string, toml = ''): ReturnType<typeof operationFile> => operationFile(name, toml === '' ? {} : parseToml(toml, name));

const COMMAND = `[exec]
topic = "c8y/s/ds"
on_message = "511"
command = "/etc/tedge/operations/command --flag 'a b'"
`;
const JSON_COMMAND = `[exec]
on_fragment = "c8y_Shell"
command = "/usr/bin/run \${.payload.c8y_Shell.text} --id=\${.payload.id}"
result_format = "csv"
timeout = 10
`;
const WORKFLOW_TEMPLATE = `[exec]
on_fragment = "c8y_MyOp"
[exec.workflow]
operation = "my_op"
input = { x = "\${.payload.c8y_MyOp.x}" }
`;
// thin-edge's own test template: the input is the whole fragment.
const FRAGMENT_TEMPLATE = `[exec]
topic = "c8y/devicecontrol/notifications"
on_fragment = "c8y_OpenDoor"

[exec.workflow]
operation = "open_door"
input = "\${.payload.c8y_OpenDoor}"
`;

const DIR: OperationsDirectory = {
  files: new Map([
    [MAIN, [file('c8y_Command', COMMAND), file('c8y_Shell', JSON_COMMAND), file('c8y_MyOp.template', WORKFLOW_TEMPLATE), file('c8y_OpenDoor.template', FRAGMENT_TEMPLATE), file('c8y_Static')]],
    [CHILD, [file('c8y_ChildOnly')]],
    ['test-device:device:nested', [file('c8y_NestedOnly')]],
  ]),
};

describe('c8y operations directory: 114 lists', () => {
  table([
    {
      name: 'static files and handlers join the main device 114 with the builtin operations; templates do not',
      options: { directory: DIR },
      input: [`[te/device/main///cmd/restart] {}`],
      expected: ['[c8y/s/us] 114,c8y_Command,c8y_Restart,c8y_Shell,c8y_Static'],
    },
    {
      name: 'a child directory: the child 114 on its own topic',
      options: { directory: DIR },
      entities: ['child1'],
      input: [`[te/device/child1///cmd/restart] {}`],
      expected: [`[c8y/s/us/${CHILD}] 114,c8y_ChildOnly,c8y_Restart`],
    },
    {
      name: 'a workflow capability published by the agent activates its template in the 114',
      options: { directory: DIR },
      input: [`[te/device/main///cmd/my_op] {}`],
      expected: ['[c8y/s/us] 114,c8y_Command,c8y_MyOp,c8y_Shell,c8y_Static'],
    },
    {
      name: 'sync: every entity with operations, nested children included, gets its 114 again',
      options: { directory: DIR },
      entities: ['child1', 'nested'],
      input: [`[${SYNC_TOPIC}] {}`],
      expected: ['[c8y/s/us] 114,c8y_Command,c8y_Shell,c8y_Static', `[c8y/s/us/${CHILD}] 114,c8y_ChildOnly`, '[c8y/s/us/test-device:device:nested] 114,c8y_NestedOnly'],
    },
    {
      name: 'the templated workflow operation becomes a marked te/ command',
      options: { directory: DIR },
      input: [cloudOp(MAIN, '8', { c8y_MyOp: { x: 42 } })],
      expected: ['[te/device/main///cmd/my_op/c8y-mapper-8] {"status":"init","x":42,"c8y-mapper":{"on_fragment":"c8y_MyOp","output":null}}'],
    },
    {
      name: 'input = "${.payload.<fragment>}": the fragment\'s fields are the command\'s',
      options: { directory: DIR },
      input: [cloudOp(MAIN, '9', { c8y_OpenDoor: { delay: 1, user: 'bob' } })],
      expected: ['[te/device/main///cmd/open_door/c8y-mapper-9] {"status":"init","delay":1,"user":"bob","c8y-mapper":{"on_fragment":"c8y_OpenDoor","output":null}}'],
    },
    {
      name: 'an input that is no JSON object once filled in fails the operation',
      options: { directory: DIR },
      input: [cloudOp(MAIN, '10', { c8y_OpenDoor: 'now' })],
      expected: ['[c8y/s/us] 504,10', '[c8y/s/us] 505,10,"c8y_OpenDoor: [exec.workflow] input must give a JSON object, found ""now"""'],
    },
  ]);

  it('sync reads the directory again', () => {
    let dir: OperationsDirectory = { files: new Map() };
    const { ops } = setup({ reloadDirectory: () => dir });
    assert.deepEqual(feed(ops, `[${SYNC_TOPIC}] {}`), []);
    dir = { files: new Map([[MAIN, [file('c8y_New')]]]) };
    assert.deepEqual(feed(ops, `[${SYNC_TOPIC}] {}`).map(formatLine), ['[c8y/s/us] 114,c8y_New']);
  });
});

describe('c8y operations directory: custom commands', () => {
  const run = (input: string): ExecRequest[] => {
    const requests: ExecRequest[] = [];
    const { ops } = setup({ directory: DIR, execute: (r) => requests.push(r) }, ['child1']);
    assert.deepEqual(feed(ops, input), [], 'the runner reports, not the converter');
    return requests;
  };

  it('a SmartREST handler runs its argv with the whole line as the last argument, reported by name', () => {
    const [req] = run(`[${SMARTREST_TOPIC}] 511,${MAIN},"ls -l"`);
    assert.deepEqual(req?.argv, ['/etc/tedge/operations/command', '--flag', 'a b', `511,${MAIN},"ls -l"`]);
    assert.deepEqual(req?.ref, { by: 'name', name: 'c8y_Command' });
    assert.equal(req?.smartrestTopic, 'c8y/s/us');
    assert.equal(req?.timeoutMs, 3_600_000);
  });

  it('a child device uses the main directory handlers; statuses go on its topic', () => {
    const [req] = run(`[${SMARTREST_TOPIC}] 511,${CHILD},x`);
    assert.equal(req?.smartrestTopic, `c8y/s/us/${CHILD}`);
  });

  it('a JSON handler (on_fragment): argv templates filled from the operation, one word each, reported by id', () => {
    const [req] = run(cloudOp(MAIN, '77', { c8y_Shell: { text: 'rm -rf /; echo' } }));
    assert.deepEqual(req?.argv, ['/usr/bin/run', 'rm -rf /; echo', '--id=77']);
    assert.deepEqual(req?.ref, { by: 'id', opid: '77' });
    assert.equal(req?.timeoutMs, 10_000);
    assert.equal(req?.resultFormat, 'csv');
  });

  it('without a runner the operation fails where the cloud sees it', () => {
    const { ops } = setup({ directory: DIR });
    assert.deepEqual(feed(ops, cloudOp(MAIN, '3', { c8y_Shell: { text: 'x' } })).map(formatLine), ['[c8y/s/us] 504,3', '[c8y/s/us] 505,3,custom operation c8y_Shell cannot run: this mapper runs no commands']);
  });

  const req = (over: Partial<ExecRequest> = {}): ExecRequest => ({ name: 'c8y_Command', argv: ['cmd'], timeoutMs: 1000, resultFormat: 'text', skipStatusUpdate: false, ref: { by: 'id', opid: '9' }, smartrestTopic: 'c8y/s/us', ...over });
  it('statuses: 504 first, then 506 with stdout as one field, or the CSV fields as written', () => {
    assert.deepEqual(execStartLines(req()), ['504,9']);
    assert.deepEqual(execEndLines(req(), { exitCode: 0, stdout: 'a, b\n', stderr: '' }), ['506,9,"a, b\n"']);
    assert.deepEqual(execEndLines(req({ ref: { by: 'name', name: 'c8y_Command' } }), { exitCode: 0, stdout: 'Executed successfully\n', stderr: '' }), ['503,c8y_Command,"Executed successfully\n"']);
    assert.deepEqual(execEndLines(req({ resultFormat: 'csv' }), { exitCode: 0, stdout: 'a,b\n', stderr: '' }), ['506,9,a,b']);
    assert.deepEqual(execEndLines(req(), { exitCode: 0, stdout: '', stderr: '' }), ['506,9']);
  });
  it('a failure: 505 with stderr, or the exit code; by name 501/502; skip_status_update sends nothing', () => {
    assert.deepEqual(execEndLines(req(), { exitCode: 2, stdout: '', stderr: 'no such file\n' }), ['505,9,no such file']);
    assert.deepEqual(execEndLines(req(), { exitCode: 3, stdout: '', stderr: '' }), ['505,9,cmd exited with code 3']);
    assert.deepEqual(execEndLines(req({ ref: { by: 'name', name: 'c8y_Command' } }), { error: 'cmd timed out after 1 s and was killed' }), ['502,c8y_Command,cmd timed out after 1 s and was killed']);
    assert.deepEqual(execStartLines(req({ skipStatusUpdate: true })), []);
    assert.deepEqual(execEndLines(req({ skipStatusUpdate: true }), { exitCode: 0, stdout: 'x', stderr: '' }), []);
  });

  it('argv: quotes and escapes as shell-words, never a shell; a template word stays one argument', () => {
    assert.deepEqual(splitWords(`a "b c" 'd e' f\\ g "h\\"i"`), ['a', 'b c', 'd e', 'f g', 'h"i']);
    assert.throws(() => splitWords('a "b'), /unterminated/);
    assert.deepEqual(jsonArgv('x ${.payload.a}', { a: 'one two' }), ['x', 'one two']);
  });
});

describe('c8y operation files', () => {
  it('checks handlers as thin-edge does', () => {
    assert.throws(() => file('c8y_X', '[exec]\non_message = "511"\ncommand = "x"'), /needs a topic/);
    assert.throws(() => file('c8y_X', '[exec]\ntopic = "c8y/s/ds"\non_message = "511"\non_fragment = "x"\ncommand = "x"'), /exclude each other/);
    assert.throws(() => file('c8y_X', '[exec]\non_fragment = "x"'), /needs a command or an \[exec.workflow\]/);
    assert.throws(() => file('c8y_X', '[exec]\non_fragment = "x"\ncommand = "c"\n[exec.workflow]\noperation = "o"'), /both a command and a workflow/);
    assert.throws(() => file('c8y_X', '[exec]\non_fragment = "x"\ncommand = "c"\nresult_format = "xml"'), /text or csv/);
    assert.throws(() => file('bad-name', ''), /not an operation name/);
    assert.equal(file('c8y_X', '[exec]\non_fragment = "x"\ncommand = "c"\nskip_status_update = true').exec?.skipStatusUpdate, true);
  });

  it('loads the directory: main files, child sub-directories, skips bad files with a reason', () => {
    const root = mkdtempSync(join(tmpdir(), 'c8y-ops-'));
    try {
      writeFileSync(join(root, 'c8y_Restart'), '');
      writeFileSync(join(root, 'c8y_Command'), COMMAND);
      writeFileSync(join(root, 'c8y_Broken'), '[exec\n');
      writeFileSync(join(root, 'c8y_Command.swp'), '');
      mkdirSync(join(root, CHILD));
      writeFileSync(join(root, CHILD, 'c8y_ChildOnly'), '');
      const { directory, problems } = loadOperationsDirectory(root, MAIN);
      assert.deepEqual(directory.files.get(MAIN)?.map((f) => f.name), ['c8y_Command', 'c8y_Restart']);
      assert.deepEqual(directory.files.get(CHILD)?.map((f) => f.name), ['c8y_ChildOnly']);
      assert.equal(problems.length, 2);
      assert.match(problems.join('\n'), /c8y_Broken: invalid TOML/);
      assert.match(problems.join('\n'), /c8y_Command\.swp: ignored/);
      assert.deepEqual(loadOperationsDirectory(join(root, 'missing'), MAIN).directory.files.get(MAIN), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('c8y availability (117, heartbeats)', () => {
  const T0 = new Date('2024-01-01T00:00:00Z');
  const converter = (): C8yConverter =>
    new C8yConverter({
      deviceId: MAIN, prefix: 'c8y', topicRoot: 'te', topics: ['te/+/+/+/+', 'te/+/+/+/+/status/health'], maxPayloadSize: 16184, earlyMessageLimit: 100,
      createWithDeviceMarker: false, serviceType: 'service', useOperationId: true, enabled: () => true,
      fileTransferBase: 'http://127.0.0.1:8000/te/v1/files', c8yProxyBase: 'http://127.0.0.1:8001/c8y', c8yHost: undefined,
      availability: { enabled: true, intervalMs: 10 * 60_000 },
    });
  const conv = (c: C8yConverter, line: string): string[] => c.convert(parseLine(line), T0).map(formatLine);

  it('117 for the main device at start and for a new child on its own topic', () => {
    const c = converter();
    assert.deepEqual(c.startupMessages(T0).map(formatLine), ['[c8y/s/us] 117,10', '[c8y/s/us] 500']);
    assert.deepEqual(conv(c, '[te/device/kid//] {"@type":"child-device"}'), ['[c8y/s/us] 101,test-device:device:kid,test-device:device:kid,thin-edge.io-child,false', `[c8y/s/us/test-device:device:kid] 117,10`]);
    assert.deepEqual(conv(c, '[te/device/kid//] {"@type":"child-device"}'), [], 'a repeated registration sends no second 117');
  });

  it('heartbeats ({}) every interval for devices whose health service (default tedge-agent, or @health) is up', () => {
    const c = converter();
    c.startupMessages(T0);
    conv(c, '[te/device/kid//] {"@type":"child-device","@health":"device/kid/service/app"}');
    conv(c, '[te/device/main/service/tedge-agent] {"@type":"service"}');
    conv(c, '[te/device/kid/service/app] {"@type":"service"}');
    conv(c, '[te/device/main/service/tedge-agent/status/health] {"status":"up"}');
    conv(c, '[te/device/kid/service/app/status/health] {"status":"down"}');
    assert.deepEqual(c.nextFlushAt(), new Date(T0.getTime() + 600_000));
    assert.deepEqual(c.flush(new Date(T0.getTime() + 1000), false), [], 'not due yet');
    assert.deepEqual(c.flush(new Date(T0.getTime() + 600_000), false).map(formatLine), ['[c8y/inventory/managedObjects/update/test-device] {}']);
    conv(c, '[te/device/kid/service/app/status/health] {"status":"up"}');
    assert.deepEqual(c.flush(new Date(T0.getTime() + 1_200_000), false).map(formatLine), ['[c8y/inventory/managedObjects/update/test-device] {}', '[c8y/inventory/managedObjects/update/test-device:device:kid] {}']);
    assert.deepEqual(c.flush(new Date(T0.getTime() + 1_800_000), true), [], 'none while stopping');
  });
});
