import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Action } from '../../../../src/agent/workflows/model';
import { parseWorkflowFile } from '../../../../src/agent/workflows/parse';

const BUILTINS = new Set(['restart', 'software_update', 'config_update', 'firmware_update', 'firmware_update:install']);

function parse(text: string): ReturnType<typeof parseWorkflowFile> {
  return parseWorkflowFile(text, '/etc/tedge/operations/x.toml', BUILTINS);
}

function action(text: string, state: string): Action {
  const r = parse(text);
  if (!r.ok) throw new Error(r.errors.join('; '));
  const s = r.workflow.states.get(state);
  if (s === undefined) throw new Error(`no state ${state}`);
  return s.action;
}

describe('workflow files: what parses', () => {
  it("thin-edge's reference example (§4.1)", () => {
    const text = `
operation = "firmware_update"
on_error = "failed"
timeout_second = 300
[init]
script = "/usr/bin/firmware_handler.sh plan"
on_success = "executing"
on_error = { status = "failed", reason = "not timely" }
[executing]
action = "proceed"
on_success = "download"
[download]
action = "download"
input.url = "\${.payload.remoteUrl}"
on_success = "install"
[install]
script = "/usr/bin/firmware_handler.sh install \${.payload.downloadedPath}"
on_exit.0 = "reboot"
on_exit.1 = { status = "retry", reason = "busy" }
on_exit.2-5 = { status = "failed", reason = "oops" }
on_exit._ = "failed"
on_kill = { status = "failed", reason = "killed" }
[retry]
action = "proceed"
on_success = "install"
[reboot]
background_script = "sudo reboot"
on_exec = "waiting-for-restart"
["waiting-for-restart"]
action = "await-agent-restart"
timeout_second = 600
on_timeout = "failed"
on_success = "verify"
[verify]
script = "/usr/bin/check.sh"
on_stdout = ["commit", "rollback"]
[rollback]
action = "proceed"
on_success = "failed"
[commit]
operation = "config_update"
input.tedgeUrl = "\${.payload.url}"
on_exec = "await_commit"
[await_commit]
action = "await-operation-completion"
output.result = "\${.payload.path}"
on_success = "successful"
on_error = "failed"
[successful]
action = "cleanup"
[failed]
action = "cleanup"
`;
    const r = parse(text);
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    const w = r.workflow;
    assert.equal(w.operation, 'firmware_update');
    assert.deepEqual(w.states.get('install')?.action, {
      kind: 'script',
      command: '/usr/bin/firmware_handler.sh install ${.payload.downloadedPath}',
      handlers: {
        onSuccess: { status: 'reboot' },
        onError: { status: 'failed' },
        onKill: { status: 'failed', reason: 'killed' },
        onExit: [{ from: 1, to: 1, target: { status: 'retry', reason: 'busy' } }, { from: 2, to: 5, target: { status: 'failed', reason: 'oops' } }],
        onStdout: [],
        timeoutSeconds: 300,
      },
    });
    assert.deepEqual(w.states.get('init')?.action, { kind: 'script', command: '/usr/bin/firmware_handler.sh plan', handlers: { onSuccess: { status: 'executing' }, onError: { status: 'failed', reason: 'not timely' }, onExit: [], onStdout: [], timeoutSeconds: 300 } });
    assert.deepEqual(w.states.get('download')?.action, { kind: 'download', input: { url: '${.payload.remoteUrl}' }, handlers: { onSuccess: { status: 'install' }, onError: { status: 'failed' }, onExit: [], onStdout: [], timeoutSeconds: 300 } });
    assert.deepEqual(w.states.get('reboot')?.action, { kind: 'background-script', command: 'sudo reboot', onExec: { status: 'waiting-for-restart' } });
    assert.deepEqual(w.states.get('waiting-for-restart')?.action, { kind: 'await-agent-restart', handlers: { onSuccess: { status: 'verify' }, onError: { status: 'failed' }, onTimeout: { status: 'failed' }, timeoutSeconds: 600 } });
    assert.deepEqual(w.states.get('commit')?.action, { kind: 'operation', operation: 'config_update', input: { tedgeUrl: '${.payload.url}' }, onExec: { status: 'await_commit' } });
    assert.deepEqual(w.states.get('await_commit')?.action, { kind: 'await-operation-completion', output: { result: '${.payload.path}' }, handlers: { onSuccess: { status: 'successful' }, onError: { status: 'failed' }, onTimeout: { status: 'failed', reason: 'timeout' }, timeoutSeconds: 300 } });
    assert.deepEqual(w.states.get('verify')?.action.kind, 'script');
  });

  it('builtin delegation, inline tables, defaults for the terminal states', () => {
    const text = `
operation = "software_update"
init = { action = "proceed", on_success = "scheduled" }
scheduled = { operation = "builtin:software_update", on_exec = "executing" }
executing = { action = "await-operation-completion", on_success = "successful" }
`;
    assert.deepEqual(action(text, 'scheduled'), { kind: 'builtin-operation', operation: 'software_update', onExec: { status: 'executing' } });
    assert.deepEqual(action(text, 'successful'), { kind: 'cleanup' });
    assert.deepEqual(action(text, 'failed'), { kind: 'cleanup' });
    assert.deepEqual(action(text, 'init'), { kind: 'proceed', onSuccess: { status: 'scheduled' } });
  });

  it('iterate, a state with no action (proceed), deprecated builtin and restart', () => {
    const text = `
operation = "device_profile"
[init]
on_success = "next"
[next]
iterate = "\${.payload.operations}"
on_next = "apply"
on_success = "successful"
on_error = "failed"
[apply]
operation = "\${.payload.@next.item.operation}"
input = "\${.payload.@next.item.payload}"
on_exec = "wait"
[wait]
action = "await-operation-completion"
on_success = "next"
[old]
action = "builtin"
[reboot]
action = "restart"
on_success = "successful"
`;
    assert.deepEqual(action(text, 'init'), { kind: 'proceed', onSuccess: { status: 'next' } });
    assert.deepEqual(action(text, 'next'), { kind: 'iterate', path: '${.payload.operations}', onNext: { status: 'apply' }, onSuccess: { status: 'successful' }, onError: { status: 'failed' } });
    assert.deepEqual(action(text, 'apply'), { kind: 'operation', operation: '${.payload.@next.item.operation}', input: '${.payload.@next.item.payload}', onExec: { status: 'wait' } });
    assert.deepEqual(action(text, 'old'), { kind: 'builtin', operation: '', handlers: { onSuccess: { status: 'successful' }, onError: { status: 'failed' }, onTimeout: { status: 'failed', reason: 'timeout' } } });
    assert.equal(action(text, 'reboot').kind, 'builtin');
  });

  it("thin-edge's newer actions: builtin:<op>:<step> with input.*, restart-agent, upload", () => {
    const text = `
operation = "firmware_update"
[init]
action = "builtin:firmware_update:install"
input.file = "\${.payload.downloadedPath}"
on_success = "restart"
on_error = "failed"
[restart]
action = "restart-agent"
on_exec = "back"
[back]
action = "upload"
input.url = "\${.payload.tedgeUrl}"
on_success = "successful"
`;
    assert.deepEqual(action(text, 'init'), {
      kind: 'builtin-step',
      operation: 'firmware_update',
      step: 'install',
      input: { file: '${.payload.downloadedPath}' },
      handlers: { onExit: [], onStdout: [], onSuccess: { status: 'restart' }, onError: { status: 'failed' } },
    });
    assert.deepEqual(action(text, 'restart'), { kind: 'restart-agent', onExec: { status: 'back' } });
    assert.deepEqual(action(text, 'back'), { kind: 'upload', input: { url: '${.payload.tedgeUrl}' }, handlers: { onExit: [], onStdout: [], onSuccess: { status: 'successful' }, onError: { status: 'failed' } } });
  });

  it('unknown keys are ignored as thin-edge does, with a warning', () => {
    const r = parse('operation = "x"\n[init]\naction = "proceed"\ncolour = "red"\n');
    assert.ok(r.ok);
    assert.deepEqual(r.warnings, ["x.toml: state 'init': colour: unknown key: ignored"]);
  });
});

describe('workflow files: errors name the file, the state and the key', () => {
  const table: Array<[string, string, string]> = [
    ['no operation', '[init]\naction = "proceed"\n', 'x.toml: operation: missing: the operation this workflow runs'],
    ['no init', 'operation = "x"\n[a]\naction = "proceed"\n', 'x.toml: init: missing: the initial state of every workflow'],
    ['TOML syntax', 'operation = "x\n', 'invalid TOML in x.toml (line 1'],
    ['unknown action', 'operation = "x"\n[init]\naction = "fly"\n', "x.toml: state 'init': action: unknown action 'fly'"],
    ['two actions', 'operation = "x"\n[init]\nscript = "a"\naction = "proceed"\n', "x.toml: state 'init': script, action: a state has one action"],
    ['unknown target', 'operation = "x"\n[init]\naction = "proceed"\non_success = "nowhere"\n', "x.toml: state 'init': on_success: no state 'nowhere' in this workflow"],
    ['unknown on_stdout state', 'operation = "x"\n[init]\nscript = "a"\non_stdout = ["b"]\n', "x.toml: state 'init': on_stdout: no state 'b' in this workflow"],
    ['bad exit code', 'operation = "x"\n[init]\nscript = "a"\non_exit.abc = "failed"\n', "x.toml: state 'init': on_exit.abc: not an exit code"],
    ['exit code > 255', 'operation = "x"\n[init]\nscript = "a"\non_exit.256 = "failed"\n', "x.toml: state 'init': on_exit.256: not an exit code"],
    ['reversed range', 'operation = "x"\n[init]\nscript = "a"\non_exit.5-2 = "failed"\n', "x.toml: state 'init': on_exit.5-2: incorrect range: 5 > 2"],
    ['overlap', 'operation = "x"\n[init]\nscript = "a"\non_exit.1-3 = "failed"\non_exit.3 = "failed"\n', "x.toml: state 'init': on_exit: overlapping handlers: 1-3 and 3-3"],
    ['on_success and on_exit.0', 'operation = "x"\n[init]\nscript = "a"\non_success = "successful"\non_exit.0 = "successful"\n', "x.toml: state 'init': on_exit.0: on_exit.0 and on_success are the same handler"],
    ['on_error and on_exit._', 'operation = "x"\n[init]\nscript = "a"\non_error = "failed"\non_exit._ = "failed"\n', "x.toml: state 'init': on_exit._: on_exit._ and on_error are the same handler"],
    ['on_success and on_stdout', 'operation = "x"\n[init]\nscript = "a"\non_success = "successful"\non_stdout = ["successful"]\n', "x.toml: state 'init': on_stdout: on_stdout and on_success both say"],
    ['await without on_success', 'operation = "x"\n[init]\naction = "await-agent-restart"\n', "x.toml: state 'init': on_success: missing"],
    ['iterate without on_next', 'operation = "x"\n[init]\niterate = "${.payload.ops}"\non_success = "successful"\n', "x.toml: state 'init': on_next: missing"],
    ['iterate on a non-path', 'operation = "x"\n[init]\niterate = "ops"\non_next = "init"\non_success = "successful"\n', "x.toml: state 'init': iterate: not a path into the payload"],
    ['unknown builtin step', 'operation = "x"\n[init]\naction = "builtin:firmware_update:fly"\n', "x.toml: state 'init': action: no built-in step 'fly' of 'firmware_update' (there are: builtin:firmware_update:install)"],
    ['restart-agent without on_exec', 'operation = "x"\n[init]\naction = "restart-agent"\n', "x.toml: state 'init': on_exec: missing"],
    ['unknown builtin', 'operation = "x"\n[init]\noperation = "builtin:nope"\n', "x.toml: state 'init': operation: no built-in operation 'nope'"],
    ['terminal state with an action', 'operation = "x"\n[init]\naction = "proceed"\n[successful]\nscript = "a"\n', "x.toml: state 'successful': action: a terminal state can only be action = \"cleanup\""],
    ['bad target shape', 'operation = "x"\n[init]\naction = "proceed"\non_success = 3\n', "x.toml: state 'init': on_success: must be a state name or"],
    ['bad timeout', 'operation = "x"\ntimeout_second = -1\n[init]\naction = "proceed"\n', 'x.toml: timeout_second: must be a whole number of seconds'],
    ['empty script', 'operation = "x"\n[init]\nscript = " "\n', "x.toml: state 'init': script: must be a non-empty string"],
  ];
  for (const [what, text, want] of table) {
    it(what, () => {
      const r = parse(text);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.ok(r.errors.some((e) => e.startsWith(want)), `wanted ${want}\ngot ${r.errors.join('\n')}`);
    });
  }
});
