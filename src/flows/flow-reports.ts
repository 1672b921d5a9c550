import { errorMessage } from '../core/errors';
import type { StepFailure } from './flow-message';
import type { FlowDefinition } from './model';

/** How a failing step is reported on the flow's errors output (the flow goes on): the local and the built-in mappers alike. */
export function stepFailureText(def: FlowDefinition, failure: StepFailure): string {
  return `Flow '${def.name}', step '${failure.step}', on a message of topic '${failure.topic}': ${failure.error}`;
}

/** How a flow file that cannot be loaded is reported on te/errors and in the log. */
export function loadErrorText(path: string, keeps: boolean, err: unknown): string {
  return `Flow ${path} cannot be loaded${keeps ? ' (its previous version keeps running)' : ''}: ${errorMessage(err)}`;
}
