import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject, JsonValue } from '../../../../src/core/json';
import { type CommandView, extract, substitute } from '../../../../src/agent/workflows/template';

const payload: JsonObject = { status: 'install', name: 'fw', n: 3, obj: { a: { b: 'deep' } }, xs: ['first', 'mid', 'last'], '@next': { index: 0, item: { operation: 'software_update', payload: { updateList: [] } } } };
const view: CommandView = { topic: 'te/device/child1///cmd/firmware_update/c8y-1', rootPrefix: 'te', target: 'device/child1//', operation: 'firmware_update', cmdId: 'c8y-1', payload };

describe('workflow templates', () => {
  const table: Array<[string, string]> = [
    ['${.payload.name}', 'fw'],
    ['v=${.payload.n}', 'v=3'],
    ['${.payload.obj.a.b}', 'deep'],
    ['${.payload.obj.a}', '{"b":"deep"}'],
    ['${.payload.xs[-1]} ${.payload.xs[0]} ${.payload.xs[1]}', 'last first mid'],
    ['${.payload.xs[7]}', ''],
    ['${.payload.missing.path}', ''],
    ['${.payload.@next.item.operation}', 'software_update'],
    ['${.topic}', 'te/device/child1///cmd/firmware_update/c8y-1'],
    ['${.topic.root_prefix}/${.topic.target}/twin/x', 'te/device/child1///twin/x'],
    ['${.topic.operation}:${.topic.cmd_id}', 'firmware_update:c8y-1'],
    ['${.topic.unknown}', '${.topic.unknown}'],
    ['${.unknown.root} ${foo}', '${.unknown.root} ${foo}'],
    ['no template', 'no template'],
    ['${.payload.status}', 'install'],
  ];
  for (const [template, want] of table) it(template, () => assert.equal(substitute(template, view), want));

  it('${.} is the whole command, ${.payload} the payload', () => {
    assert.deepEqual(JSON.parse(substitute('${.}', view)), { topic: view.topic, payload });
    assert.deepEqual(JSON.parse(substitute('${.payload}', view)), payload);
  });

  const excerpts: Array<[JsonValue, JsonValue]> = [
    ['${.payload.@next.item.payload}', { updateList: [] }],
    [{ url: '${.payload.name}', n: '${.payload.n}', text: 'n=${.payload.n}', fixed: 1 }, { url: 'fw', n: 3, text: 'n=3', fixed: 1 }],
    [['${.payload.xs[-1]}'], ['last']],
    ['${.payload.none}', null],
  ];
  for (const [excerpt, want] of excerpts) it(`excerpt ${JSON.stringify(excerpt)}`, () => assert.deepEqual(extract(excerpt, view), want));
});
