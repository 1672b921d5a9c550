import type { Logger } from '../../log/logger';
import { downloadFile } from '../transfer/download';
import type { OperationHandler } from './operation';
import { SoftwareListHandler } from './software/software-list';
import { SoftwareUpdateHandler } from './software/software-update';

export interface BuiltinHandlerDeps {
  readonly logger: Logger;
}

/**
 * The operations the agent runs itself. Each entry is one operation's handler (its folder under
 * src/agent/operations/<op>/); the executor drives them all the same way.
 */
export function builtinHandlers(deps: BuiltinHandlerDeps): OperationHandler[] {
  void deps;
  return [new SoftwareListHandler(), new SoftwareUpdateHandler(downloadFile)];
}
