import type { Logger } from '../../log/logger';
import { downloadFile } from '../transfer/download';
import { ConfigPlugins } from './config/config-plugins';
import { ConfigSnapshotHandler } from './config/config-snapshot';
import { ConfigUpdateHandler } from './config/config-update';
import { systemFirmwareHandler } from './firmware/firmware-handler';
import { LogPlugins } from './log/log-plugins';
import { LogUploadHandler } from './log/log-upload';
import type { OperationHandler } from './operation';
import { systemRestartHandler } from './restart/restart-handler';
import { SoftwareSerial } from './software/serial';
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
  // One set of config plugins for both config operations: same types, listed once per change.
  const configPlugins = new ConfigPlugins();
  // software_list and software_update take turns: one package manager transaction at a time.
  const software = new SoftwareSerial();
  return [
    systemRestartHandler(),
    new SoftwareListHandler(software),
    new SoftwareUpdateHandler(downloadFile, software),
    new ConfigSnapshotHandler(configPlugins),
    new ConfigUpdateHandler(configPlugins),
    new LogUploadHandler(new LogPlugins()),
    systemFirmwareHandler(),
  ];
}
