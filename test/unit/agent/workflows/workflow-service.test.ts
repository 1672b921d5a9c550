import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { OperationHandler } from '../../../../src/agent/operations/operation';
import { WorkflowEngine } from '../../../../src/agent/workflows/engine';
import type { WorkflowOperationHandler } from '../../../../src/agent/workflows/workflow-handler';
import { WorkflowService } from '../../../../src/agent/workflows/workflow-service';
import { silentLogger } from '../../../../src/log/logger';

const builtin: OperationHandler = { operation: 'software_update', capability: async () => ({ types: ['apt'] }), execute: async () => ({ status: 'successful' }) };
const file = (op: string, note = ''): string => `operation = "${op}"\n# ${note}\n[init]\naction = "proceed"\n`;

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), 'in time');
}

describe('workflow files: load, reload, withdraw', () => {
  let dir: string;
  let errors: string[];
  let registered: Map<string, OperationHandler>;
  let service: WorkflowService;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-wf-service-'));
    errors = [];
    registered = new Map();
    const engine = new WorkflowEngine({ builtins: new Map([['software_update', builtin]]), download: async () => {}, topicRoot: 'te' });
    service = new WorkflowService({ dir, builtins: [builtin], engine, reportError: (t) => errors.push(t), logger: silentLogger(), debounceMs: 10 });
    for (const h of service.handlers) registered.set(h.operation, h);
    service.serveWith({
      setHandler: async (h) => void registered.set(h.operation, h),
      removeHandler: async (op) => void registered.delete(op),
    });
  });

  afterEach(async () => {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const wrapper = (op: string): WorkflowOperationHandler | undefined => registered.get(op) as WorkflowOperationHandler | undefined;

  it('a file over a builtin replaces it; removed, the builtin serves again', async () => {
    writeFileSync(join(dir, 'software_update.toml'), file('software_update'));
    await service.start();
    assert.equal(wrapper('software_update')?.managesStates, true);
    rmSync(join(dir, 'software_update.toml'));
    await until(() => wrapper('software_update')?.managesStates === false);
    assert.ok(registered.has('software_update'), 'the builtin stays');
  });

  it('a broken change keeps the previous version; a never-valid file is not served; a removed file withdraws', async () => {
    writeFileSync(join(dir, 'a.toml'), file('a', 'v1'));
    writeFileSync(join(dir, 'b.toml'), 'operation = "b"\n');
    await service.start();
    assert.ok(registered.has('a'));
    assert.ok(!registered.has('b'));
    assert.deepEqual(errors, [`invalid workflow in ${dir} (not served): b.toml: init: missing: the initial state of every workflow`]);
    const v1 = wrapper('a')?.current;
    writeFileSync(join(dir, 'a.toml'), 'operation = "a"\n[init]\naction = "nope"\n');
    await until(() => errors.length === 2);
    assert.match(errors[1] ?? '', /^invalid workflow in .* \(the previous version of the file is kept\): a\.toml: state 'init': action: unknown action 'nope'/);
    assert.equal(wrapper('a')?.current, v1);
    rmSync(join(dir, 'a.toml'));
    await until(() => !registered.has('a'));
  });

  it('two files for one operation: the second is reported and ignored', async () => {
    writeFileSync(join(dir, 'a.toml'), file('same'));
    writeFileSync(join(dir, 'b.toml'), file('same'));
    await service.start();
    assert.equal(wrapper('same')?.current?.file, 'a.toml');
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /b\.toml: operation: 'same' is already defined by a\.toml: this file is ignored/);
  });
});
