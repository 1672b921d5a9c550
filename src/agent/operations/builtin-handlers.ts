import type { Logger } from '../../log/logger';
import type { OperationHandler } from './operation';

export interface BuiltinHandlerDeps {
  readonly logger: Logger;
}

/**
 * The operations the agent runs itself. Each entry is one operation's handler (its folder under
 * src/agent/operations/<op>/); the executor drives them all the same way.
 */
export function builtinHandlers(deps: BuiltinHandlerDeps): OperationHandler[] {
  void deps;
  return [];
}
