import type { JsonValue } from '../../core/json';

/**
 * A workflow file (`<config-dir>/operations/<name>.toml`) once parsed and checked: what the engine runs.
 * Defaults of the file (`on_error`, `timeout_second`, `on_timeout`) are already applied to each state.
 */
export interface Workflow {
  readonly operation: string;
  /** The file it came from, for messages. */
  readonly file: string;
  readonly states: ReadonlyMap<string, State>;
}

/** Where a state goes: a status, with a reason when it is `failed`. */
export interface Target {
  readonly status: string;
  readonly reason?: string;
}

export interface ExitRange {
  readonly from: number;
  readonly to: number;
  readonly target: Target;
}

/** How a script's end maps to the next state (thin-edge's ExitHandlers). */
export interface ExitHandlers {
  /** `on_success` or `on_exit.0`. */
  readonly onSuccess?: Target;
  /** `on_error` or `on_exit._` (file default applied when neither is given). */
  readonly onError?: Target;
  readonly onKill?: Target;
  /** Sorted, non-overlapping; code 0 is in onSuccess. */
  readonly onExit: readonly ExitRange[];
  /** The states a script may name in its `status` output (instead of on_success). */
  readonly onStdout: readonly string[];
  readonly timeoutSeconds?: number;
  /** Only when given in the state or the file: otherwise a script past its timeout is killed (on_kill). */
  readonly onTimeout?: Target;
}

export interface AwaitHandlers {
  readonly onSuccess: Target;
  readonly onError: Target;
  readonly timeoutSeconds?: number;
  readonly onTimeout: Target;
}

export type Action =
  | { readonly kind: 'script'; readonly command: string; readonly handlers: ExitHandlers }
  /** Launched detached once `onExec` is persisted; the command moves on without waiting. */
  | { readonly kind: 'background-script'; readonly command: string; readonly onExec: Target }
  /** A sub-operation on this device, `sub:<op>:<cmd_id>`; `operation` may hold templates. */
  | { readonly kind: 'operation'; readonly operation: string; readonly input?: JsonValue; readonly inputScript?: string; readonly onExec: Target }
  /** `operation = "builtin:<op>"`: the agent's own implementation, awaited in the `onExec` state. */
  | { readonly kind: 'builtin-operation'; readonly operation: string; readonly onExec: Target }
  | { readonly kind: 'proceed'; readonly onSuccess: Target }
  /** Terminal states: nothing to do (the requester clears the command). */
  | { readonly kind: 'cleanup' }
  | { readonly kind: 'download'; readonly input?: JsonValue; readonly handlers: ExitHandlers }
  /** `input.url` (else `tedgeUrl`) ← the file at `input.path` (else `path`), by HTTP PUT. */
  | { readonly kind: 'upload'; readonly input?: JsonValue; readonly handlers: ExitHandlers }
  /** `action = "builtin:<op>:<step>"`: one step of a builtin, `input.*` merged into the payload first. */
  | { readonly kind: 'builtin-step'; readonly operation: string; readonly step: string; readonly input?: JsonValue; readonly handlers: ExitHandlers }
  /** `onExec` persisted, then the agent stops to be started again by its service manager. */
  | { readonly kind: 'restart-agent'; readonly onExec: Target }
  | { readonly kind: 'await-agent-restart'; readonly handlers: AwaitHandlers }
  | { readonly kind: 'await-operation-completion'; readonly output?: JsonValue; readonly handlers: AwaitHandlers }
  | { readonly kind: 'iterate'; readonly path: string; readonly onNext: Target; readonly onSuccess: Target; readonly onError: Target }
  /** Deprecated `action = "builtin"` / `"restart"`: the built-in `operation` run in this very state. */
  | { readonly kind: 'builtin'; readonly operation: string; readonly handlers: AwaitHandlers };

export interface State {
  readonly name: string;
  readonly action: Action;
}

export const SUCCESSFUL: Target = { status: 'successful' };
export const FAILED: Target = { status: 'failed' };
