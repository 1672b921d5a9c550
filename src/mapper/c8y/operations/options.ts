import type { JsonObject, JsonValue } from '../../../core/json';
import type { ExecRequest } from './exec';
import type { PrefetchJob } from './prefetch';
import type { AutoLogUpload, OperationLogRequest } from './operation-log';
import type { OperationsDirectory } from './operations-dir';

/**
 * A custom operation delegated to a local workflow, as declared by an operation file
 * (`/etc/tedge/operations/c8y/<name>[.template]`, `[exec] on_fragment` + `[exec.workflow]`).
 * Reading those files is the composition root's job; this module only uses the parsed mapping.
 */
export interface CustomOperation {
  /** Cumulocity operation name, e.g. `c8y_Command` (the file name). */
  readonly name: string;
  /** Fragment of the Cumulocity operation that selects this mapping, e.g. `c8y_Command`. */
  readonly onFragment: string;
  /** thin-edge command the operation becomes: `te/<id>/cmd/<operation>/c8y-mapper-<opid>`. */
  readonly operation: string;
  /** Extra command fields; strings may hold `${.payload.<path>}` taken from the Cumulocity operation. A string
   * that is only a reference (`"${.payload.c8y_OpenDoor}"`) gives the fields of that fragment. */
  readonly input?: JsonValue;
  /** `[exec.workflow] output`: the excerpt of the final command payload reported with 506 (`"${.payload.result}"`). */
  readonly output?: JsonValue;
}

export interface OperationsOptions {
  /** Local topic prefix of Cumulocity topics (`c8y.bridge.topic_prefix`), e.g. `c8y`. */
  readonly prefix: string;
  /** Root of the `te/` tree (`mqtt.topic_root`). */
  readonly topicRoot: string;
  /** `c8y.smartrest.use_operation_id`: report status by operation id (504-506) or by name (501-503). */
  readonly useOperationId: boolean;
  /** Whether a builtin operation is enabled, by thin-edge name (`restart` is `c8y.enable.device_restart`). */
  readonly enabled: (op: string) => boolean;
  /** `http://<http.client.host>:<http.client.port>/te/v1/files` */
  readonly fileTransferBase: string;
  /** `http://<c8y.proxy.client.host>:<c8y.proxy.client.port>/c8y` */
  readonly c8yProxyBase: string;
  /** Host of `c8y.url`; URLs on this host are fetched through the local proxy, which authenticates. */
  readonly c8yHost: string | undefined;
  /** Hosts of c8y.http and c8y.mqtt (ports ignored): URLs there, or in their domain, are the tenant's too. */
  readonly c8yHosts?: readonly string[];
  /** `c8y.software_management.with_types`: publish `c8y_SupportedSoftwareTypes`. Default false. */
  readonly softwareWithTypes?: boolean;
  /** Operation names declared by plain files in the operations directory, by external id; always part of the 114. */
  readonly staticOperations?: ReadonlyMap<string, readonly string[]>;
  /** Workflow-backed custom operations. */
  readonly customOperations?: readonly CustomOperation[];
  /** `<config-dir>/operations/c8y/`: static operations, handlers, workflow mappings (adds to the two above). */
  readonly directory?: OperationsDirectory;
  /** Re-reads the directory, for the `sync` signal; injected so the converter does no I/O itself. */
  readonly reloadDirectory?: () => OperationsDirectory;
  /** Runs a custom operation command (`[exec] command`); the runner reports its statuses. */
  readonly execute?: (request: ExecRequest) => void;
  /** `c8y.software_management.api`: software list as inventory `c8y_SoftwareList` (legacy) or 140/141 (advanced, the default here). */
  readonly softwareApi?: 'legacy' | 'advanced';
  /** `c8y.operations.auto_log_upload`; never when absent. */
  readonly autoLogUpload?: AutoLogUpload;
  /** Where the agent writes a command's log, for commands without `logPath`. */
  readonly operationLogPath?: (operation: string, cmdId: string) => string;
  /** Uploads an operation log (best effort, no status); injected so the converter does no I/O. */
  readonly uploadOperationLog?: (request: OperationLogRequest) => void;
  /** Copies a tenant binary of config_update / firmware_update into the file transfer service before the command goes out. */
  readonly prefetch?: (job: PrefetchJob) => void;
  /** Ids for the commands the mapper issues itself (software_list); injected so tests are exact. */
  readonly newCommandId?: () => string;
}
