import { basename } from 'node:path';
import { errorMessage } from '../../core/errors';
import type { JsonObject, JsonValue } from '../../core/json';
import { parseToml } from '../../config/toml';
import { type Action, type AwaitHandlers, type ExitHandlers, type ExitRange, FAILED, type State, SUCCESSFUL, type Target, type Workflow } from './model';
import { parsePath } from './template';

/**
 * thin-edge's workflow TOML (operation-workflow.md, tedge_api/src/workflow/toml_config.rs) → a checked
 * Workflow. Pure: the text in, the model or every problem out, each naming the file, the state and the key,
 * so one message tells the user what to fix. Keys thin-edge ignores are ignored here too (a file that works
 * with thin-edge works here), but listed as warnings for the log.
 */
export type ParseResult =
  | { readonly ok: true; readonly workflow: Workflow; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly errors: readonly string[]; readonly warnings: readonly string[] };

const FILE_KEYS = new Set(['operation', 'on_error', 'timeout_second', 'on_timeout', 'version']);
const STATE_KEYS = new Set([
  'script', 'background_script', 'action', 'operation', 'iterate',
  'on_success', 'on_error', 'on_kill', 'on_exit', 'timeout_second', 'on_timeout', 'on_stdout', 'on_exec', 'on_next',
  'input', 'input_script', 'output',
]);
const ACTION_KEYS = ['script', 'background_script', 'action', 'operation', 'iterate'] as const;

class Problems {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];
  constructor(private readonly file: string) {}
  error(state: string | undefined, key: string | undefined, text: string): void {
    this.errors.push(this.where(state, key) + text);
  }
  warn(state: string | undefined, key: string | undefined, text: string): void {
    this.warnings.push(this.where(state, key) + text);
  }
  private where(state: string | undefined, key: string | undefined): string {
    return `${this.file}: ${state === undefined ? '' : `state '${state}': `}${key === undefined ? '' : `${key}: `}`;
  }
}

/**
 * `builtins`: the operations with a `builtin:<op>` implementation in this agent and their steps as
 * `<op>:<step>` (`builtin:<op>:<step>` actions); any when not given.
 */
export function parseWorkflowFile(text: string, file: string, builtins?: ReadonlySet<string>): ParseResult {
  const name = basename(file);
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text, name);
  } catch (err) {
    return { ok: false, errors: [errorMessage(err)], warnings: [] };
  }
  return parseWorkflow(doc, name, builtins);
}

interface Defaults {
  readonly onError: Target;
  readonly timeoutSeconds?: number;
  readonly onTimeout?: Target;
}

export function parseWorkflow(doc: Record<string, unknown>, file: string, builtins?: ReadonlySet<string>): ParseResult {
  const p = new Problems(file);
  const operation = doc['operation'];
  if (typeof operation !== 'string' || !/^[A-Za-z0-9_-]+$/.test(operation)) {
    p.error(undefined, 'operation', operation === undefined ? 'missing: the operation this workflow runs' : 'must be an operation name (letters, digits, _ and -)');
  }
  const fileOnError = target(doc['on_error'], p, undefined, 'on_error');
  const fileTimeout = seconds(doc['timeout_second'], p, undefined, 'timeout_second');
  const fileOnTimeout = target(doc['on_timeout'], p, undefined, 'on_timeout');
  const defaults: Defaults = { onError: fileOnError ?? FAILED, ...(fileTimeout !== undefined && { timeoutSeconds: fileTimeout }), ...(fileOnTimeout !== undefined && { onTimeout: fileOnTimeout }) };

  const states = new Map<string, State>();
  for (const [key, value] of Object.entries(doc)) {
    if (FILE_KEYS.has(key)) continue;
    if (!isTable(value)) {
      p.warn(undefined, key, 'not a state (a table) nor a key of the file: ignored');
      continue;
    }
    const action = parseState(key, value, defaults, p, builtins);
    if (action !== undefined) states.set(key, { name: key, action });
  }
  if (!Object.hasOwn(doc, 'init')) p.error(undefined, 'init', 'missing: the initial state of every workflow');
  for (const terminal of ['successful', 'failed']) {
    const s = states.get(terminal);
    if (s === undefined) states.set(terminal, { name: terminal, action: { kind: 'cleanup' } });
    else if (s.action.kind !== 'cleanup') p.error(terminal, 'action', `a terminal state can only be action = "cleanup", not ${s.action.kind}`);
  }
  for (const state of states.values()) checkTargets(state, states, p);
  if (p.errors.length > 0 || typeof operation !== 'string') return { ok: false, errors: p.errors, warnings: p.warnings };
  return { ok: true, workflow: { operation, file, states }, warnings: p.warnings };
}

function parseState(name: string, t: Record<string, unknown>, defaults: Defaults, p: Problems, builtins: ReadonlySet<string> | undefined): Action | undefined {
  for (const key of Object.keys(t)) if (!STATE_KEYS.has(key)) p.warn(name, key, 'unknown key: ignored');
  const given = ACTION_KEYS.filter((k) => t[k] !== undefined);
  if (given.length > 1) {
    p.error(name, given.join(', '), 'a state has one action: script, background_script, action, operation or iterate');
    return undefined;
  }
  const errorsBefore = p.errors.length;
  const h = (key: string): Target | undefined => target(t[key], p, name, key);
  const timeout = seconds(t['timeout_second'], p, name, 'timeout_second') ?? defaults.timeoutSeconds;
  const awaitHandlers = (defaultSuccess?: Target): AwaitHandlers | undefined => {
    const onSuccess = h('on_success') ?? defaultSuccess;
    if (onSuccess === undefined) p.error(name, 'on_success', 'missing: where to go once the wait is over');
    const onError = h('on_error') ?? defaults.onError;
    const onTimeout = h('on_timeout') ?? defaults.onTimeout ?? { status: 'failed', reason: 'timeout' };
    return onSuccess === undefined ? undefined : { onSuccess, onError, onTimeout, ...(timeout !== undefined && { timeoutSeconds: timeout }) };
  };
  const onExec = (fallback: Target): Target => h('on_exec') ?? fallback;
  const input = (): JsonValue | undefined => (t['input'] === undefined ? undefined : toJson(t['input'], p, name, 'input'));

  let action: Action | undefined;
  const kind = given[0] ?? 'action';
  switch (kind) {
    case 'script':
    case 'background_script': {
      const command = text(t[kind], p, name, kind);
      if (command === undefined) return undefined;
      if (kind === 'script') {
        const handlers = exitHandlers(name, t, defaults, timeout, p);
        if (handlers) action = { kind: 'script', command, handlers };
      } else action = { kind: 'background-script', command, onExec: onExec(SUCCESSFUL) };
      break;
    }
    case 'operation': {
      const op = text(t['operation'], p, name, 'operation');
      if (op === undefined) return undefined;
      const builtin = op.startsWith('builtin:') ? op.slice('builtin:'.length) : undefined;
      if (builtin !== undefined) {
        if (builtins !== undefined && !builtins.has(builtin)) p.error(name, 'operation', `no built-in operation '${builtin}' (there are: ${[...builtins].filter((b) => !b.includes(':')).join(', ')})`);
        action = { kind: 'builtin-operation', operation: builtin, onExec: onExec({ status: 'executing' }) };
      } else {
        const inputScript = t['input_script'] === undefined ? undefined : text(t['input_script'], p, name, 'input_script');
        const i = input();
        action = { kind: 'operation', operation: op, onExec: onExec(SUCCESSFUL), ...(i !== undefined && { input: i }), ...(inputScript !== undefined && { inputScript }) };
      }
      break;
    }
    case 'iterate': {
      const path = text(t['iterate'], p, name, 'iterate');
      if (path === undefined) return undefined;
      const m = /^\$\{\.payload(.*)\}$/.exec(path);
      if (m === null || parsePath(m[1] as string) === undefined) p.error(name, 'iterate', `not a path into the payload such as "\${.payload.operations}": ${path}`);
      const onNext = h('on_next');
      const onSuccess = h('on_success');
      if (onNext === undefined) p.error(name, 'on_next', 'missing: the state run for each item');
      if (onSuccess === undefined) p.error(name, 'on_success', 'missing: where to go after the last item');
      if (onNext && onSuccess) action = { kind: 'iterate', path, onNext, onSuccess, onError: h('on_error') ?? defaults.onError };
      break;
    }
    case 'action': {
      const a = t['action'] === undefined ? 'proceed' : text(t['action'], p, name, 'action');
      if (a === undefined) return undefined;
      switch (a) {
        case 'proceed':
          action = { kind: 'proceed', onSuccess: h('on_success') ?? SUCCESSFUL };
          break;
        case 'cleanup':
          action = { kind: 'cleanup' };
          break;
        case 'download': {
          const handlers = exitHandlers(name, t, defaults, timeout, p);
          const i = input();
          if (handlers) action = { kind: 'download', handlers, ...(i !== undefined && { input: i }) };
          break;
        }
        case 'await-agent-restart': {
          const handlers = awaitHandlers();
          if (handlers) action = { kind: 'await-agent-restart', handlers };
          break;
        }
        case 'await-operation-completion': {
          const handlers = awaitHandlers();
          const output = t['output'] === undefined ? undefined : toJson(t['output'], p, name, 'output');
          if (handlers) action = { kind: 'await-operation-completion', handlers, ...(output !== undefined && { output }) };
          break;
        }
        case 'upload': {
          const handlers = exitHandlers(name, t, defaults, timeout, p);
          const i = input();
          if (handlers) action = { kind: 'upload', handlers, ...(i !== undefined && { input: i }) };
          break;
        }
        case 'restart-agent': {
          const next = h('on_exec');
          if (next === undefined) p.error(name, 'on_exec', 'missing: the state the command is in when the agent is back');
          else action = { kind: 'restart-agent', onExec: next };
          break;
        }
        case 'builtin':
        case 'restart': {
          // Deprecated forms: `builtin` runs the built-in of this very operation, `restart` the device restart.
          const handlers = awaitHandlers(SUCCESSFUL);
          if (handlers) action = { kind: 'builtin', operation: a === 'restart' ? 'restart' : '', handlers };
          break;
        }
        default: {
          const step = /^builtin:([A-Za-z0-9_-]+):([A-Za-z0-9_-]+)$/.exec(a);
          if (step === null) {
            p.error(name, 'action', `unknown action '${a}' (proceed, cleanup, download, upload, await-agent-restart, restart-agent, await-operation-completion, builtin:<operation>:<step>, builtin, restart)`);
            break;
          }
          const [, op = '', stepName = ''] = step;
          if (builtins !== undefined && !builtins.has(`${op}:${stepName}`)) {
            const known = [...builtins].filter((b) => b.includes(':')).map((b) => `builtin:${b}`);
            p.error(name, 'action', `no built-in step '${stepName}' of '${op}' (there are: ${known.join(', ') || 'none'})`);
            break;
          }
          const handlers = exitHandlers(name, t, defaults, timeout, p);
          const i = input();
          if (handlers) action = { kind: 'builtin-step', operation: op, step: stepName, handlers, ...(i !== undefined && { input: i }) };
        }
      }
      break;
    }
  }
  return p.errors.length === errorsBefore ? action : undefined;
}

function exitHandlers(state: string, t: Record<string, unknown>, defaults: Defaults, timeout: number | undefined, p: Problems): ExitHandlers | undefined {
  const before = p.errors.length;
  let onSuccess = target(t['on_success'], p, state, 'on_success');
  let onError = target(t['on_error'], p, state, 'on_error');
  const onKill = target(t['on_kill'], p, state, 'on_kill');
  const onTimeout = target(t['on_timeout'], p, state, 'on_timeout') ?? defaults.onTimeout;
  let onStdout: string[] = [];
  if (t['on_stdout'] !== undefined) {
    const v = t['on_stdout'];
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) onStdout = v as string[];
    else p.error(state, 'on_stdout', 'must be an array of state names');
  }
  const ranges: ExitRange[] = [];
  if (t['on_exit'] !== undefined) {
    const table = t['on_exit'];
    if (!isTable(table)) p.error(state, 'on_exit', 'must be a table: on_exit.N, on_exit.N-M, on_exit._');
    else {
      for (const [codes, value] of Object.entries(table)) {
        const key = `on_exit.${codes}`;
        const tgt = target(value, p, state, key);
        if (tgt === undefined) continue;
        if (codes === '_') {
          if (onError !== undefined) p.error(state, key, 'on_exit._ and on_error are the same handler: give one');
          onError = tgt;
          continue;
        }
        const range = exitCodes(codes);
        if (range === undefined) {
          p.error(state, key, 'not an exit code: N, N-M (0 to 255) or _');
          continue;
        }
        if (range.from > range.to) p.error(state, key, `incorrect range: ${range.from} > ${range.to}`);
        ranges.push({ ...range, target: tgt });
      }
    }
  }
  ranges.sort((a, b) => a.from - b.from);
  for (let i = 1; i < ranges.length; i++) {
    const a = ranges[i - 1] as ExitRange;
    const b = ranges[i] as ExitRange;
    if (b.from <= a.to) p.error(state, 'on_exit', `overlapping handlers: ${a.from}-${a.to} and ${b.from}-${b.to}`);
  }
  const zero = ranges[0]?.from === 0 ? ranges[0] : undefined;
  if (zero !== undefined) {
    if (onSuccess !== undefined) p.error(state, 'on_exit.0', 'on_exit.0 and on_success are the same handler: give one');
    if (zero.to !== 0) p.error(state, `on_exit.0-${zero.to}`, 'a range cannot include 0: give on_success');
    onSuccess = zero.target;
    ranges.shift();
  }
  if (onSuccess !== undefined && onStdout.length > 0) p.error(state, 'on_stdout', 'on_stdout and on_success both say where to go on success: give one');
  if (onError === undefined) onError = defaults.onError;
  if (p.errors.length > before) return undefined;
  return {
    onExit: ranges,
    onStdout,
    onError,
    ...(onSuccess !== undefined && { onSuccess }),
    ...(onKill !== undefined && { onKill }),
    ...(timeout !== undefined && { timeoutSeconds: timeout }),
    ...(onTimeout !== undefined && { onTimeout }),
  };
}

function exitCodes(s: string): { from: number; to: number } | undefined {
  const m = /^(\d{1,3})(?:-(\d{1,3}))?$/.exec(s);
  if (m === null) return undefined;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  return from > 255 || to > 255 ? undefined : { from, to };
}

/** Every state a state may go to must exist: a typo would otherwise leave a command stuck. */
function checkTargets(state: State, states: ReadonlyMap<string, State>, p: Problems): void {
  const check = (key: string, t: Target | undefined): void => {
    if (t !== undefined && !states.has(t.status)) p.error(state.name, key, `no state '${t.status}' in this workflow`);
  };
  const a = state.action;
  const exit = (h: ExitHandlers): void => {
    check('on_success', h.onSuccess);
    check('on_error', h.onError);
    check('on_kill', h.onKill);
    check('on_timeout', h.onTimeout);
    for (const r of h.onExit) check(`on_exit.${r.from === r.to ? r.from : `${r.from}-${r.to}`}`, r.target);
    for (const s of h.onStdout) check('on_stdout', { status: s });
  };
  const wait = (h: AwaitHandlers): void => {
    check('on_success', h.onSuccess);
    check('on_error', h.onError);
    check('on_timeout', h.onTimeout);
  };
  switch (a.kind) {
    case 'script':
    case 'download':
    case 'upload':
    case 'builtin-step':
      return exit(a.handlers);
    case 'restart-agent':
    case 'background-script':
    case 'operation':
    case 'builtin-operation':
      return check('on_exec', a.onExec);
    case 'proceed':
      return check('on_success', a.onSuccess);
    case 'cleanup':
      return;
    case 'await-agent-restart':
    case 'await-operation-completion':
    case 'builtin':
      return wait(a.handlers);
    case 'iterate':
      check('on_next', a.onNext);
      check('on_success', a.onSuccess);
      check('on_error', a.onError);
  }
}

/** `"state"` or `{ status = "state", reason = "…" }`. */
function target(v: unknown, p: Problems, state: string | undefined, key: string): Target | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string' && v !== '') return { status: v };
  if (isTable(v) && typeof v['status'] === 'string' && v['status'] !== '') {
    const extra = Object.keys(v).filter((k) => k !== 'status' && k !== 'reason');
    if (extra.length > 0) p.warn(state, key, `unknown key(s) ${extra.join(', ')}: ignored`);
    if (v['reason'] !== undefined && typeof v['reason'] !== 'string') {
      p.error(state, key, 'reason must be a string');
      return undefined;
    }
    return typeof v['reason'] === 'string' ? { status: v['status'], reason: v['reason'] } : { status: v['status'] };
  }
  p.error(state, key, 'must be a state name or { status = "…", reason = "…" }');
  return undefined;
}

function seconds(v: unknown, p: Problems, state: string | undefined, key: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'bigint' && v >= 0n) return Number(v);
  p.error(state, key, 'must be a whole number of seconds (0 or more)');
  return undefined;
}

function text(v: unknown, p: Problems, state: string, key: string): string | undefined {
  if (typeof v === 'string' && v.trim() !== '') return v;
  p.error(state, key, 'must be a non-empty string');
  return undefined;
}

function toJson(v: unknown, p: Problems, state: string, key: string): JsonValue | undefined {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map((e) => toJson(e, p, state, key) ?? null);
  if (isTable(v)) {
    const out: JsonObject = {};
    for (const [k, e] of Object.entries(v)) out[k] = toJson(e, p, state, `${key}.${k}`) ?? null;
    return out;
  }
  p.error(state, key, 'not a JSON value');
  return undefined;
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}
