import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import type { CommandRun } from '../../../../src/agent/operations/operation';
import { DEFAULT_RESTART_WAIT_S, WorkflowEngine } from '../../../../src/agent/workflows/engine';
import { parseWorkflowFile } from '../../../../src/agent/workflows/parse';

/** The engine's waits, on mocked timers: a wait that never ends would leave a command non-final for ever. */
describe('workflow engine: await-agent-restart without timeout_second', () => {
  it(`moves to on_timeout after ${DEFAULT_RESTART_WAIT_S} s, not later, not never`, { timeout: 5000 }, async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const parsed = parseWorkflowFile('operation = "w"\n[init]\naction = "await-agent-restart"\non_success = "successful"\non_timeout = { status = "failed", reason = "no restart" }\n', 'w.toml');
      assert.ok(parsed.ok);
      const advanced: string[] = [];
      const run = {
        entity: 'device/main//',
        operation: 'w',
        cmdId: '1',
        payload: { status: 'init' },
        log: () => {},
        checkpoint: async () => {},
        advance: async (status: string) => void advanced.push(status),
        signal: new AbortController().signal,
      } as unknown as CommandRun;
      let settled = false;
      const outcome = new WorkflowEngine({ builtins: new Map(), download: async () => {}, topicRoot: 'te' }).run(run, parsed.workflow, false).finally(() => (settled = true));
      await new Promise((r) => setImmediate(r));
      mock.timers.tick((DEFAULT_RESTART_WAIT_S - 1) * 1000);
      await new Promise((r) => setImmediate(r));
      assert.equal(settled, false, 'still waiting before the default');
      mock.timers.tick(1000);
      assert.deepEqual(await outcome, { status: 'failed', reason: 'no restart', payload: { status: 'failed', reason: 'no restart' } });
    } finally {
      mock.timers.reset();
    }
  });
});
