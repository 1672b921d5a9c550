import { isTerminal } from '../../core/commands';
import type { JsonObject } from '../../core/json';
import type { Outcome } from './operation';

/**
 * What the executor knows about one command topic `te/<entity>/cmd/<op>/<id>`, and the pure rules that
 * move it on (design rule 7: `(state, event) → {state, effects}`); the executor only runs the effects.
 *
 * The built-in workflow is `init → executing → successful | failed`. `running` holds whatever
 * non-terminal status was last persisted, not only `executing`, so a workflow engine with states such as
 * `scheduled` or `download` restores and resumes through the same rules.
 *
 * A command id is used once: a payload arriving for a command the executor already knows is its own
 * echo or a duplicate and is ignored; only a clear (empty retained payload) forgets it. Finished
 * commands stay on disk until then, so that a request the broker hands over again (its PUBACK was
 * lost with the connection) is recognised after the result, not run twice.
 */
export type Tracked =
  /** Persisted with this (non-terminal) payload; the handler is running or being resumed. */
  | { readonly phase: 'running'; readonly payload: JsonObject }
  /** Cleared by the requester while running: its state file is gone and its result will be dropped. */
  | { readonly phase: 'abandoned' }
  /** Terminal: persisted and published, kept until the requester clears it. */
  | { readonly phase: 'finished'; readonly status: string };

export type CommandEvent =
  /**
   * A well-formed, non-empty payload from the bus (`status` defaults to `init`). `workflow`: the handler
   * moves the command through its own states (a workflow's `init` state acts too), so `init` is
   * persisted as it is and nothing is published until the handler advances it.
   */
  | { readonly kind: 'request'; readonly payload: JsonObject; readonly workflow?: boolean }
  /** A payload that is not a JSON object with a string status. */
  | { readonly kind: 'malformed'; readonly reason: string }
  /** The empty retained payload: the requester is done with the command. */
  | { readonly kind: 'cleared' }
  /**
   * Found in the state directory at start. `resumable`: the handler has a `resume`. `delivered`: a
   * terminal state the broker acknowledged before the agent stopped.
   */
  | { readonly kind: 'restored'; readonly payload: JsonObject; readonly resumable: boolean; readonly delivered?: boolean; readonly workflow?: boolean }
  /** The handler's result, or why it could not run (e.g. the state could not be persisted). */
  | { readonly kind: 'finished'; readonly outcome: Outcome }
  /** The handler saves progress (still running) before an effect that may restart the process. */
  | { readonly kind: 'checkpoint'; readonly update: JsonObject }
  /**
   * Moves a running command to another non-terminal state (a workflow's `scheduled`, `download`, …):
   * persisted, then published. The built-in operations never do; the workflow engine (issue 11) will.
   */
  | { readonly kind: 'advance'; readonly status: string; readonly update: JsonObject };

export type Effect =
  /**
   * Write the state file atomically; always before the same payload is published. `delivered`: the
   * terminal payload is now on the broker, so a restart need not publish it again.
   */
  | { readonly kind: 'persist'; readonly payload: JsonObject; readonly delivered?: boolean }
  /** Retained, QoS 1, on the command topic. */
  | { readonly kind: 'publish'; readonly payload: JsonObject }
  /** Remove the state file. */
  | { readonly kind: 'forget' }
  /** The handler's optional `prepare`: after `executing` is persisted, before it is published. */
  | { readonly kind: 'prepare'; readonly payload: JsonObject }
  /** Start the handler: `execute` for a new command, `resume` for one found at start. */
  | { readonly kind: 'run'; readonly mode: 'execute' | 'resume'; readonly payload: JsonObject }
  /** One line in the command's log. */
  | { readonly kind: 'log'; readonly line: string };

export interface Step {
  /** undefined: the executor holds nothing for this command. */
  readonly state: Tracked | undefined;
  readonly effects: readonly Effect[];
}

export const AGENT_RESTARTED_REASON = 'the agent restarted while the command was executing';
export const UNKNOWN_COMMAND_REASON = 'the agent has no record of this command (its state was lost); it cannot go on';

function statusOf(payload: JsonObject): string {
  const s = payload['status'];
  return typeof s === 'string' ? s : 'init';
}

/** The payload of a terminal state: every field kept, the outcome's fields over them. */
export function terminalPayload(payload: JsonObject, outcome: Outcome): JsonObject {
  const merged: JsonObject = { ...payload, ...(outcome.payload ?? {}), status: outcome.status };
  if (outcome.status === 'failed') merged['reason'] = outcome.reason;
  return merged;
}

/** Persist, publish, then note that the broker has it: a crash in between publishes it again at start. */
function finish(payload: JsonObject, outcome: Outcome, why: string): Step {
  const done = terminalPayload(payload, outcome);
  const line = outcome.status === 'failed' ? `${why}: failed: ${outcome.reason}` : `${why}: successful`;
  return {
    state: { phase: 'finished', status: outcome.status },
    effects: [{ kind: 'log', line }, { kind: 'persist', payload: done }, { kind: 'publish', payload: done }, { kind: 'persist', payload: done, delivered: true }],
  };
}

/** init → executing: persisted, prepared, then published, then the handler runs. */
function start(request: JsonObject): Step {
  const executing: JsonObject = { ...request, status: 'executing' };
  return {
    state: { phase: 'running', payload: executing },
    effects: [
      { kind: 'log', line: `received: ${JSON.stringify(request)}` },
      { kind: 'persist', payload: executing },
      { kind: 'prepare', payload: executing },
      { kind: 'publish', payload: executing },
      { kind: 'run', mode: 'execute', payload: executing },
    ],
  };
}

/** init of a workflow: persisted at `init` (a restart runs the init state again), then its handler runs. */
function startWorkflow(request: JsonObject): Step {
  const init: JsonObject = { ...request, status: 'init' };
  return {
    state: { phase: 'running', payload: init },
    effects: [
      { kind: 'log', line: `received: ${JSON.stringify(request)}` },
      { kind: 'persist', payload: init },
      { kind: 'run', mode: 'execute', payload: init },
    ],
  };
}

const IGNORE = (state: Tracked | undefined): Step => ({ state, effects: [] });

export function transition(state: Tracked | undefined, event: CommandEvent): Step {
  switch (event.kind) {
    case 'request': {
      const status = statusOf(event.payload);
      // Our own echoes, and duplicates of the request.
      if (state !== undefined) return IGNORE(state);
      if (status === 'init') return event.workflow === true ? startWorkflow(event.payload) : start(event.payload);
      // A terminal state nobody cleared yet: the requester's business.
      if (isTerminal(status)) return IGNORE(undefined);
      // Non-terminal but not persisted by us: left over by an agent whose state was lost. Never leave it hanging.
      return finish(event.payload, { status: 'failed', reason: UNKNOWN_COMMAND_REASON }, `found in state '${status}'`);
    }
    case 'malformed':
      if (state !== undefined) return { state, effects: [{ kind: 'log', line: `ignored a malformed payload: ${event.reason}` }] };
      return finish({}, { status: 'failed', reason: event.reason }, 'malformed request');
    case 'cleared':
      switch (state?.phase) {
        case 'running':
          return { state: { phase: 'abandoned' }, effects: [{ kind: 'log', line: 'cleared by the requester while running: its result will not be published' }, { kind: 'forget' }] };
        case 'abandoned':
          return IGNORE(state);
        default:
          // Also removes a state file left behind, whatever happened to it.
          return { state: undefined, effects: [{ kind: 'forget' }] };
      }
    case 'restored': {
      const status = statusOf(event.payload);
      if (isTerminal(status)) {
        // Crashed after persisting the terminal state, maybe before publishing it.
        if (event.delivered === true) return { state: { phase: 'finished', status }, effects: [] };
        return { state: { phase: 'finished', status }, effects: [{ kind: 'publish', payload: event.payload }, { kind: 'persist', payload: event.payload, delivered: true }] };
      }
      if (status === 'init') return event.workflow === true ? startWorkflow(event.payload) : start(event.payload);
      if (!event.resumable) return finish(event.payload, { status: 'failed', reason: AGENT_RESTARTED_REASON }, 'restored');
      return {
        state: { phase: 'running', payload: event.payload },
        effects: [
          { kind: 'log', line: `resuming in state '${status}' after an agent restart` },
          // The broker may not have it: the agent may have died between persisting and publishing.
          { kind: 'publish', payload: event.payload },
          { kind: 'run', mode: 'resume', payload: event.payload },
        ],
      };
    }
    case 'finished':
      // Remembered (in memory only: the file went with the clear) so that a late duplicate of the request is not run again.
      if (state?.phase === 'abandoned') return { state: { phase: 'finished', status: event.outcome.status }, effects: [{ kind: 'log', line: `${event.outcome.status} (not published: the command was cleared)` }] };
      if (state?.phase !== 'running') return IGNORE(state);
      return finish(state.payload, event.outcome, 'finished');
    case 'checkpoint': {
      if (state?.phase !== 'running') return IGNORE(state);
      const payload: JsonObject = { ...state.payload, ...event.update, status: statusOf(state.payload) };
      return { state: { phase: 'running', payload }, effects: [{ kind: 'persist', payload }] };
    }
    case 'advance': {
      if (state?.phase !== 'running' || isTerminal(event.status) || event.status === 'init') return IGNORE(state);
      const payload: JsonObject = { ...state.payload, ...event.update, status: event.status };
      return {
        state: { phase: 'running', payload },
        effects: [{ kind: 'log', line: `moved to '${event.status}'` }, { kind: 'persist', payload }, { kind: 'publish', payload }],
      };
    }
  }
}
