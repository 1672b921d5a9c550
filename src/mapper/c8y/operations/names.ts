/** thin-edge command prefix marking commands created by (and so reported by) this mapper. */
export const MAPPER_CMD_PREFIX = 'c8y-mapper-';
/** The operation-id part of commands from SmartREST templates, which have no id: reported by name. */
export const SMARTREST_OPID = 'smartrest-';

/** The builtin operations that have a Cumulocity counterpart. */
export type BuiltinOperation =
  | 'restart'
  | 'software_update'
  | 'config_snapshot'
  | 'config_update'
  | 'log_upload'
  | 'firmware_update'
  | 'device_profile';

const C8Y_NAMES: Readonly<Record<BuiltinOperation, string>> = {
  restart: 'c8y_Restart',
  software_update: 'c8y_SoftwareUpdate',
  config_snapshot: 'c8y_UploadConfigFile',
  config_update: 'c8y_DownloadConfigFile',
  log_upload: 'c8y_LogfileRequest',
  firmware_update: 'c8y_Firmware',
  device_profile: 'c8y_DeviceProfile',
};

export function isBuiltinOperation(op: string): op is BuiltinOperation {
  return Object.prototype.hasOwnProperty.call(C8Y_NAMES, op);
}

export function c8yOperationName(op: BuiltinOperation): string {
  return C8Y_NAMES[op];
}

/** The builtin operation whose fragment a Cumulocity operation carries, checked in thin-edge's order. */
export const BUILTIN_FRAGMENTS: readonly (readonly [string, BuiltinOperation])[] = [
  ['c8y_Restart', 'restart'],
  ['c8y_SoftwareUpdate', 'software_update'],
  ['c8y_LogfileRequest', 'log_upload'],
  ['c8y_UploadConfigFile', 'config_snapshot'],
  ['c8y_DownloadConfigFile', 'config_update'],
  ['c8y_Firmware', 'firmware_update'],
  ['c8y_DeviceProfile', 'device_profile'],
];

/** The config key that switches an operation off, named in errors so users know what to change. */
export function enableKey(op: BuiltinOperation): string {
  return `c8y.enable.${op === 'restart' ? 'device_restart' : op}`;
}
