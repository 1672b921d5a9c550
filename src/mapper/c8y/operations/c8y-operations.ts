import { randomUUID } from 'node:crypto';
import { type CommandState, parseCommand } from '../../../core/commands';
import { ConversionError, errorMessage, isConversionError } from '../../../core/errors';
import { type JsonObject, isJsonObject } from '../../../core/json';
import { type Message, message } from '../../../core/message';
import { type EntityTopicId, MAIN_DEVICE, errorsTopic, topicFor } from '../../../core/topics';
import type { C8yEntity, C8yEntityCache } from '../entity-cache';
import { smartrestLine } from '../smartrest';
import { SupportedOperations, capabilityTypes } from './capabilities';
import { type CloudOperation, type Handler, commandBody, handlerNames, parseCloudOperation, resolveHandler } from './cloud-operation';
import { PREFETCHED, prefetchPath } from './prefetch';
import { markedName } from './custom-marker';
import { execRequest, jsonArgv, smartrestArgv } from './exec';
import { EMPTY_DIRECTORY, type ExecHandler, type OperationsDirectory, execHandlers, staticOperations, workflowMappings } from './operations-dir';
import { SMARTREST_FRAGMENTS, type SmartrestRequest, smartrestAsJson, smartrestRequests } from './smartrest-requests';
import { advancedSoftwareList, legacySoftwareList } from './software';
import { CommandTracker, type ReportedStatus, reportedStatus } from './command-tracker';
import { operationLogRequest } from './operation-log';
import { type CommandKind, statusMessages } from './completion';
import { isInvalidOperationError } from './fields';
import { type BuiltinOperation, MAPPER_CMD_PREFIX, SMARTREST_OPID, c8yOperationName, isBuiltinOperation } from './names';
import type { CustomOperation, OperationsOptions } from './options';
import { type OperationRef, failedLine, executingLine, successfulLine } from './status';
import { type UploadOperation, type UploadOutcome, type UploadRequest, uploadRequestTopic } from './uploads';
import { fileTransferUrl, proxyUrl } from './urls';

/**
 * The operation part of the Cumulocity mapper, pure: capabilities → supported operations (114/118/119),
 * Cumulocity operations → `te/` commands, command statuses → SmartREST 501-506 and the clearing of
 * finished commands. State (what was announced, the last status per command) lives in memory.
 */
export class C8yOperations {
  private readonly supported: SupportedOperations;
  private readonly tracker = new CommandTracker();
  private readonly newCommandId: () => string;
  private directory: OperationsDirectory;
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

  /** legacy: inventory `c8y_SoftwareList`; advanced: 140/141 on the entity's SmartREST topic. */
  private softwareListMessages(entity: C8yEntity, payload: JsonObject): Message[] {
    if (this.opts.softwareApi === 'legacy') {
      return [message(`${this.opts.prefix}/inventory/managedObjects/update/${entity.externalId}`, legacySoftwareList(payload), { qos: 1 })];
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

  /**
   * `c8y/devicecontrol/notifications` → retained `te/<id>/cmd/<op>/c8y-mapper-<opid>` `{"status":"init",...}`.
   * One message may carry several operations, one JSON per line; then each failing line becomes its own
   * `te/errors` message so the others still go through.
   */
  onCloudOperation(payload: string): Message[] {
    const lines = payload.split('\n').filter((l) => l.trim() !== '');
    if (lines.length <= 1) return this.cloudOperation(payload);
    return lines.flatMap((line) => {
      try {
        return this.cloudOperation(line);
      } catch (err) {
        const topic = `${this.opts.prefix}/devicecontrol/notifications`;
        return [message(errorsTopic(this.opts.topicRoot), `Failed to convert a message on topic '${topic}': ${errorMessage(err)}`, { qos: 1 })];
      }
    });
  }

  private cloudOperation(text: string): Message[] {
    const op = parseCloudOperation(text);
    const entity = this.cache.byExternalId(op.externalId);
    if (entity === undefined) throw new ConversionError(`Cannot execute Cumulocity operation ${op.opid}: no registered entity has the external id '${op.externalId}'`);
    const cmdId = `${MAPPER_CMD_PREFIX}${op.opid}`;
    // Cumulocity re-delivers pending operations (each 500 asks again): one command per operation.
    if (this.tracker.isRequested(cmdId)) return [];
    let handler: Handler;
    try {
      handler = resolveHandler(op, { enabled: this.opts.enabled, customOperations: this.custom }, execHandlers(this.directory, entity.externalId, this.cache.mainDeviceId));
    } catch (err) {
      // Known id, no way to run it: failed where the cloud sees it, not left pending (and re-sent by every 500).
      if (!isConversionError(err)) throw err;
      this.tracker.request(cmdId);
      const ref = this.ref(op.opid, undefined);
      if (ref === undefined) throw err;
      return this.failNow(entity, ref, errorMessage(err));
    }
    this.tracker.request(cmdId);
    const { operation, c8yName } = handlerNames(handler);
    if (handler.kind === 'exec') return this.runExec(entity, handler.exec, jsonArgv(handler.exec.spec.command, op.json), this.ref(op.opid, c8yName));
    try {
      const body = commandBody(handler, op, {
        externalId: entity.externalId,
        cmdId,
        fileTransferBase: this.opts.fileTransferBase,
        rewriteUrl: (url) => proxyUrl(url, this.opts),
      });
      const topic = this.commandTopic(entity.topicId, operation, cmdId);
      if (handler.kind === 'builtin' && this.prefetched(entity, handler.fragment, op, operation, cmdId, topic, body, c8yName)) return [];
      return [message(topic, JSON.stringify(body), { qos: 1, retain: true })];
    } catch (err) {
      if (!isInvalidOperationError(err)) throw err;
      // The operation is known but malformed: fail it in the cloud rather than leave it pending.
      const ref = this.ref(op.opid, c8yName);
      return ref === undefined ? [] : this.failNow(entity, ref, err.message);
    }
  }

  /** A tenant binary is copied into the file transfer service first when a prefetcher is wired; true when handed over. */
  private prefetched(entity: C8yEntity, fragment: string, op: CloudOperation, operation: string, cmdId: string, commandTopic: string, body: JsonObject, c8yName: string): boolean {
    const prefetch = this.opts.prefetch;
    const f = op.json[fragment];
    if (prefetch === undefined || PREFETCHED[fragment] === undefined || !isJsonObject(f)) return false;
    const url = f['url'];
    if (typeof url !== 'string' || proxyUrl(url, this.opts) === url) return false;
    const name = typeof body['type'] === 'string' ? body['type'] : typeof body['name'] === 'string' ? body['name'] : operation;
    prefetch({ url, path: prefetchPath(entity.externalId, operation, name, cmdId), commandTopic, body, ref: this.ref(op.opid, c8yName), smartrestTopic: this.cache.smartrestTopic(entity.topicId) });
    return true;
  }

  private failNow(entity: C8yEntity, ref: OperationRef, reason: string): Message[] {
    return [this.smartrest(entity, executingLine(ref)), this.smartrest(entity, failedLine(ref, reason))];
  }

  /** Hands a command handler to the runner, which reports 504 and 506/505 itself as the command runs. */
  private runExec(entity: C8yEntity, handler: ExecHandler, argv: string[], ref: OperationRef | undefined): Message[] {
    if (ref === undefined) return [];
    if (this.opts.execute === undefined) return this.failNow(entity, ref, `custom operation ${handler.name} cannot run: this mapper runs no commands`);
    this.opts.execute(execRequest(handler.name, handler.spec, argv, ref, this.cache.smartrestTopic(entity.topicId)));
    return [];
  }

  // ---- SmartREST operations (c8y/s/ds) ------------------------------------------------------

  /**
   * `c8y/s/ds` static templates: the builtin ones (510, 515, 522, 524, 526, 528) become the same thin-edge
   * commands as their JSON form, reported by name (a template has no operation id); a template a custom
   * handler names (`on_message`) runs its command with the line as the last argument. Others are ignored.
   */
  onSmartrest(payload: string): Message[] {
    return smartrestRequests(payload).flatMap((r) => this.smartrestOperation(r));
  }

  private smartrestOperation(r: SmartrestRequest): Message[] {
    const entity = this.cache.byExternalId(r.externalId);
    const fragment = SMARTREST_FRAGMENTS[r.template];
    if (entity === undefined) {
      if (fragment === undefined && !this.hasSmartrestHandler(r.template)) return [];
      throw new ConversionError(`Cannot execute SmartREST ${r.template}: no registered entity has the external id '${r.externalId}'`);
    }
    const handler = execHandlers(this.directory, entity.externalId, this.cache.mainDeviceId).find((h) => h.spec.onMessage === r.template && this.isSmartrestTopic(h.spec.topic));
    if (handler !== undefined) return this.runExec(entity, handler, smartrestArgv(handler.spec.command, r.line), { by: 'name', name: handler.name });
    if (fragment === undefined) return [];
    let json: JsonObject | undefined;
    try {
      json = smartrestAsJson(r);
    } catch (err) {
      if (!isInvalidOperationError(err)) throw err;
      return this.failNow(entity, { by: 'name', name: fragment }, err.message);
    }
    if (json === undefined) return [];
    const opid = `${SMARTREST_OPID}${this.newCommandId().slice(MAPPER_CMD_PREFIX.length)}`;
    return this.cloudOperation(JSON.stringify({ id: opid, ...json, externalSource: { externalId: entity.externalId, type: 'c8y_Serial' } }));
  }

  private hasSmartrestHandler(template: string): boolean {
    return [...this.directory.files.values()].some((files) => files.some((f) => f.exec?.onMessage === template));
  }

  /** Handlers name `c8y/s/ds` (thin-edge replaces `c8y/` by the prefix). */
  private isSmartrestTopic(topic: string | undefined): boolean {
    return topic === undefined || topic.replace(/^c8y\//, `${this.opts.prefix}/`) === `${this.opts.prefix}/s/ds`;
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
