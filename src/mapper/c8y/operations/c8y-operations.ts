import { randomUUID } from 'node:crypto';
import { type CommandState, parseCommand } from '../../../core/commands';
import { ConversionError } from '../../../core/errors';
import type { JsonObject } from '../../../core/json';
import { type Message, message } from '../../../core/message';
import { type EntityTopicId, MAIN_DEVICE, topicFor } from '../../../core/topics';
import type { C8yEntity, C8yEntityCache } from '../entity-cache';
import { smartrestLine } from '../smartrest';
import { SupportedOperations, capabilityTypes } from './capabilities';
import { CloudRequests } from './cloud-requests';
import { CommandTracker, type ReportedStatus, reportedStatus } from './command-tracker';
import { type CommandKind, statusMessages } from './completion';
import { markedName } from './custom-marker';
import { type BuiltinOperation, MAPPER_CMD_PREFIX, SMARTREST_OPID, c8yOperationName, isBuiltinOperation } from './names';
import { operationLogRequest } from './operation-log';
import { EMPTY_DIRECTORY, type OperationsDirectory, staticOperations, workflowMappings } from './operations-dir';
import type { CustomOperation, OperationsOptions } from './options';
import { advancedSoftwareList, legacySoftwareList } from './software';
import { type OperationRef, failedLine, successfulLine } from './status';
import { type UploadOperation, type UploadOutcome, type UploadRequest, httpInventoryUpdateTopic, uploadRequestTopic } from './uploads';
import { fileTransferUrl } from './urls';

/**
 * The operation part of the Cumulocity mapper, pure: capabilities → supported operations (114/118/119),
 * Cumulocity operations → `te/` commands (CloudRequests), command statuses → SmartREST 501-506 and the clearing of
 * finished commands. State (what was announced, the last status per command) lives in memory.
 */
export class C8yOperations {
  private readonly supported: SupportedOperations;
  private readonly tracker = new CommandTracker();
  private readonly newCommandId: () => string;
  private directory: OperationsDirectory;
  private readonly requests: CloudRequests;
  /** Workflow-backed custom operations: the options' and the operations directory's. */
  private custom: CustomOperation[] = [];

  constructor(
    private readonly cache: C8yEntityCache,
    private readonly opts: OperationsOptions,
  ) {
    this.supported = new SupportedOperations();
    this.directory = opts.directory ?? EMPTY_DIRECTORY;
    this.useDirectory(this.directory);
    this.newCommandId = opts.newCommandId ?? ((): string => `${MAPPER_CMD_PREFIX}${randomUUID()}`);
    this.requests = new CloudRequests({
      cache,
      opts,
      tracker: this.tracker,
      directory: () => this.directory,
      custom: () => this.custom,
      ref: (opid, name) => this.ref(opid, name),
      smartrest: (entity, line) => this.smartrest(entity, line),
      commandTopic: (topicId, op, cmdId) => this.commandTopic(topicId, op, cmdId),
      newCommandId: () => this.newCommandId(),
    });
  }

  private useDirectory(dir: OperationsDirectory): void {
    this.directory = dir;
    const ops = new Map<string, string[]>();
    for (const source of [this.opts.staticOperations ?? new Map<string, readonly string[]>(), staticOperations(dir)]) {
      for (const [xid, names] of source) ops.set(xid, [...(ops.get(xid) ?? []), ...names]);
    }
    this.supported.setStatic(ops);
    this.custom = [...(this.opts.customOperations ?? []), ...workflowMappings(dir)];
  }

  // ---- capabilities -------------------------------------------------------------------------

  /** `te/<id>/cmd/<op>` retained capability → 114 (and 118/119, software types, a software_list request). */
  onCapability(topicId: EntityTopicId, operation: string, payload: string): Message[] {
    // Removing a capability is not mapped: Cumulocity has no "remove one operation" (thin-edge #2739).
    if (payload === '') return [];
    const entity = this.entity(topicId);
    const types = capabilityTypes(payload);
    // The same capability again (retained re-delivery after a reconnect) announces nothing new.
    if (!this.supported.changed(entity.externalId, `cap:${operation}`, JSON.stringify(types ?? null))) return [];
    if (isBuiltinOperation(operation)) return this.builtinCapability(entity, operation, types);
    if (operation === 'software_list') return this.softwareTypes(entity, types);
    return this.customCapability(entity, operation);
  }

  private builtinCapability(entity: C8yEntity, op: BuiltinOperation, types: string[] | undefined): Message[] {
    if (!this.opts.enabled(op)) return [];
    const out = this.register(entity, [c8yOperationName(op)]);
    const code = op === 'log_upload' ? 118 : op === 'config_snapshot' || op === 'config_update' ? 119 : undefined;
    if (code !== undefined && types !== undefined) {
      const line = smartrestLine(code, ...[...types].sort());
      if (this.supported.changed(entity.externalId, String(code), line)) out.push(this.smartrest(entity, line));
    }
    // Cumulocity shows installed software only once told; ask the agent for the list as soon as it can update it.
    if (op === 'software_update') out.push(this.softwareListRequest(entity.topicId));
    return out;
  }

  private softwareTypes(entity: C8yEntity, types: string[] | undefined): Message[] {
    if (this.opts.softwareWithTypes !== true || types === undefined) return [];
    const topic = `${this.opts.prefix}/inventory/managedObjects/update/${entity.externalId}`;
    return [message(topic, JSON.stringify({ c8y_SupportedSoftwareTypes: types }), { qos: 1 })];
  }

  private customCapability(entity: C8yEntity, operation: string): Message[] {
    const names = this.custom.filter((c) => c.operation === operation).map((c) => c.name);
    return names.length === 0 ? [] : this.register(entity, names);
  }

  /** Adds operations to the entity's list; the new 114 if the list changed. */
  private register(entity: C8yEntity, c8yNames: readonly string[]): Message[] {
    for (const name of c8yNames) this.supported.add(entity.externalId, name);
    const line = this.supported.supportedOperationsLine(entity.externalId);
    return this.supported.changed(entity.externalId, '114', line) ? [this.smartrest(entity, line)] : [];
  }

  // ---- command statuses ---------------------------------------------------------------------

  /** `te/<id>/cmd/<op>/<cmdId>` → SmartREST status for commands this mapper created (`c8y-mapper-*`). */
  onCommand(topicId: EntityTopicId, operation: string, cmdId: string, payload: string): Message[] {
    if (!cmdId.startsWith(MAPPER_CMD_PREFIX)) return [];
    const cmdTopic = this.commandTopic(topicId, operation, cmdId);
    if (payload === '') {
      this.tracker.cleared(cmdTopic);
      return [];
    }
    const state = parseCommand(payload);
    // A retained command seen again after a restart: Cumulocity re-delivering its operation must not make a second one.
    this.tracker.request(cmdId);
    const kind = state === undefined ? undefined : this.commandKind(operation, state);
    const status = state === undefined ? undefined : reportedStatus(state.status);
    if (state === undefined || kind === undefined || status === undefined) return [];
    const entity = this.entity(topicId);
    if (!this.tracker.advance(cmdTopic, status)) return [];
    this.maybeUploadLog(entity, operation, cmdId, state, status);
    return statusMessages(kind, status, {
      state,
      ref: this.ref(cmdId.slice(MAPPER_CMD_PREFIX.length), this.c8yName(kind)),
      smartrest: (line) => this.smartrest(entity, line),
      clear: () => message(cmdTopic, '', { qos: 1, retain: true }),
      requestSoftwareList: () => this.softwareListRequest(topicId),
      twin: (fragment, value) => message(topicFor(topicId, { kind: 'twin', fragment }, this.opts.topicRoot), JSON.stringify(value), { qos: 1, retain: true }),
      uploadRequest: (op) => this.uploadRequestMessage(entity, op, cmdId, state),
      softwareList: (p) => this.softwareListMessages(entity, p),
    });
  }

  private maybeUploadLog(entity: C8yEntity, operation: string, cmdId: string, state: CommandState, status: ReportedStatus): void {
    const upload = this.opts.uploadOperationLog;
    if (upload === undefined) return;
    const req = operationLogRequest(this.opts.autoLogUpload ?? 'never', status, { externalId: entity.externalId, operation, cmdId, state }, this.opts.operationLogPath);
    if (req !== undefined) upload(req);
  }

  /** Which reporting a command needs; undefined for commands with no Cumulocity side (health). */
  private commandKind(operation: string, state: CommandState): CommandKind | undefined {
    if (isBuiltinOperation(operation)) return { kind: 'builtin', op: operation };
    if (operation === 'software_list') return { kind: 'software_list' };
    if (operation === 'health') return undefined;
    return { kind: 'custom', c8yName: markedName(state.payload) ?? this.custom.find((c) => c.operation === operation)?.onFragment };
  }

  /** legacy: inventory `c8y_SoftwareList` over HTTP (any size); advanced: 140/141 on the entity's SmartREST topic. */
  private softwareListMessages(entity: C8yEntity, payload: JsonObject): Message[] {
    if (this.opts.softwareApi === 'legacy') {
      return [message(httpInventoryUpdateTopic(this.opts.prefix, entity.externalId), legacySoftwareList(payload), { qos: 1 })];
    }
    return advancedSoftwareList(payload).map((l) => this.smartrest(entity, l));
  }

  private c8yName(kind: CommandKind): string | undefined {
    switch (kind.kind) {
      case 'builtin':
        return c8yOperationName(kind.op);
      case 'custom':
        return kind.c8yName;
      case 'software_list':
        return undefined;
    }
  }

  /** By id when configured; by name otherwise, which needs a name. */
  private ref(opid: string, c8yName: string | undefined): OperationRef | undefined {
    // A SmartREST template carries no operation id: its operation can only be named.
    if (this.opts.useOperationId && !opid.startsWith(SMARTREST_OPID)) return { by: 'id', opid };
    return c8yName === undefined ? undefined : { by: 'name', name: c8yName };
  }

  private uploadRequestMessage(entity: C8yEntity, operation: UploadOperation, cmdId: string, state: CommandState): Message {
    const type = typeof state.payload['type'] === 'string' ? state.payload['type'] : 'default';
    const given = state.payload['tedgeUrl'];
    const request: UploadRequest = {
      topicId: entity.topicId,
      operation,
      cmdId,
      externalId: entity.externalId,
      tedgeUrl: typeof given === 'string' ? given : fileTransferUrl(this.opts.fileTransferBase, entity.externalId, operation, type, cmdId),
      eventType: type,
    };
    return message(uploadRequestTopic(this.opts.prefix, entity.externalId), JSON.stringify(request), { qos: 1 });
  }

  /** The end of a config_snapshot / log_upload: 506 with the binary URL (or 505), then the clear. */
  uploadFinished(request: UploadRequest, outcome: UploadOutcome): Message[] {
    const entity = this.entity(request.topicId);
    const ref = this.ref(request.cmdId.slice(MAPPER_CMD_PREFIX.length), c8yOperationName(request.operation));
    const out: Message[] = [];
    if (ref !== undefined) {
      const line = outcome.ok ? successfulLine(ref, outcome.binaryUrl) : failedLine(ref, outcome.reason);
      out.push(this.smartrest(entity, line));
    }
    out.push(message(this.commandTopic(request.topicId, request.operation, request.cmdId), '', { qos: 1, retain: true }));
    return out;
  }

  // ---- Cumulocity operations ----------------------------------------------------------------

  /** `c8y/devicecontrol/notifications`: see CloudRequests. */
  onCloudOperation(payload: string): Message[] {
    return this.requests.onCloudOperation(payload);
  }

  /** `c8y/s/ds`: see CloudRequests. */
  onSmartrest(payload: string): Message[] {
    return this.requests.onSmartrest(payload);
  }

  // ---- startup and sync ---------------------------------------------------------------------

  /** Once connected: the main device's 114 (when it has operations) and 500, asking for pending operations. */
  startupMessages(): Message[] {
    const main = this.cache.get(MAIN_DEVICE);
    const out = main === undefined ? [] : this.announce(main);
    out.push(message(`${this.opts.prefix}/s/us`, '500', { qos: 1 }));
    return out;
  }

  /** The `sync` signal: the operations directory read again, then every entity's 114. */
  sync(): Message[] {
    if (this.opts.reloadDirectory !== undefined) this.useDirectory(this.opts.reloadDirectory());
    return this.supportedOperationsMessages();
  }

  /** Every entity's 114, for the `sync` signal (e.g. after Cumulocity lost them). */
  supportedOperationsMessages(): Message[] {
    return this.supported.entities().flatMap((xid) => {
      const entity = this.cache.byExternalId(xid);
      return entity === undefined ? [] : this.announce(entity);
    });
  }

  /** Forgets a deregistered entity's operations, so a re-registration announces them again. */
  forgetEntity(externalId: string): void {
    this.supported.forget(externalId);
  }

  /** The entity's 114 regardless of what was sent before; nothing when it has no operations. */
  private announce(entity: C8yEntity): Message[] {
    if (this.supported.list(entity.externalId).length === 0) return [];
    const line = this.supported.supportedOperationsLine(entity.externalId);
    this.supported.changed(entity.externalId, '114', line);
    return [this.smartrest(entity, line)];
  }

  // ---- helpers ------------------------------------------------------------------------------

  private entity(topicId: EntityTopicId): C8yEntity {
    const entity = this.cache.get(topicId);
    if (entity === undefined) throw new ConversionError(`Unknown entity '${topicId}': it must be registered before its operations are mapped`);
    return entity;
  }

  private smartrest(entity: C8yEntity, line: string): Message {
    return message(this.cache.smartrestTopic(entity.topicId), line, { qos: 1 });
  }

  private commandTopic(topicId: EntityTopicId, operation: string, cmdId: string): string {
    return topicFor(topicId, { kind: 'command', operation, cmdId }, this.opts.topicRoot);
  }

  private softwareListRequest(topicId: EntityTopicId): Message {
    return message(this.commandTopic(topicId, 'software_list', this.newCommandId()), JSON.stringify({ status: 'init' }), { qos: 1, retain: true });
  }
}
