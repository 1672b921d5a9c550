import { ConversionError, errorMessage, isConversionError } from '../../../core/errors';
import { type JsonObject, isJsonObject } from '../../../core/json';
import { type Message, message } from '../../../core/message';
import { type EntityTopicId, errorsTopic } from '../../../core/topics';
import type { C8yEntity, C8yEntityCache } from '../entity-cache';
import { type CloudOperation, type Handler, commandBody, handlerNames, parseCloudOperation, resolveHandler } from './cloud-operation';
import type { CommandTracker } from './command-tracker';
import { execRequest, jsonArgv, smartrestArgv } from './exec';
import { isInvalidOperationError } from './fields';
import { MAPPER_CMD_PREFIX, SMARTREST_OPID } from './names';
import { type ExecHandler, type OperationsDirectory, execHandlers } from './operations-dir';
import type { CustomOperation, OperationsOptions } from './options';
import { PREFETCHED, prefetchPath } from './prefetch';
import { SMARTREST_FRAGMENTS, type SmartrestRequest, smartrestAsJson, smartrestRequests } from './smartrest-requests';
import { type OperationRef, executingLine, failedLine } from './status';
import { proxyUrl } from './urls';

/** What the cloud side needs of C8yOperations: its state and how it names and addresses things. */
export interface CloudRequestContext {
  readonly cache: C8yEntityCache;
  readonly opts: OperationsOptions;
  readonly tracker: CommandTracker;
  directory(): OperationsDirectory;
  custom(): readonly CustomOperation[];
  ref(opid: string, c8yName: string | undefined): OperationRef | undefined;
  smartrest(entity: C8yEntity, line: string): Message;
  commandTopic(topicId: EntityTopicId, operation: string, cmdId: string): string;
  newCommandId(): string;
}

/**
 * Cumulocity → thin-edge, pure: JSON operations (`c8y/devicecontrol/notifications`) and SmartREST templates
 * (`c8y/s/ds`) → retained `te/<id>/cmd/<op>/c8y-mapper-<id>` commands, or a command handler handed to the
 * runner, or a tenant binary handed to the prefetcher; a malformed or unknown operation failed in the cloud.
 */
export class CloudRequests {
  constructor(private readonly ctx: CloudRequestContext) {}

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
        const topic = `${this.ctx.opts.prefix}/devicecontrol/notifications`;
        return [message(errorsTopic(this.ctx.opts.topicRoot), `Failed to convert a message on topic '${topic}': ${errorMessage(err)}`, { qos: 1 })];
      }
    });
  }

  private cloudOperation(text: string): Message[] {
    const op = parseCloudOperation(text);
    const entity = this.ctx.cache.byExternalId(op.externalId);
    if (entity === undefined) throw new ConversionError(`Cannot execute Cumulocity operation ${op.opid}: no registered entity has the external id '${op.externalId}'`);
    const cmdId = `${MAPPER_CMD_PREFIX}${op.opid}`;
    // Cumulocity re-delivers pending operations (each 500 asks again): one command per operation.
    if (this.ctx.tracker.isRequested(cmdId)) return [];
    let handler: Handler;
    try {
      handler = resolveHandler(op, { enabled: this.ctx.opts.enabled, customOperations: this.ctx.custom() }, execHandlers(this.ctx.directory(), entity.externalId, this.ctx.cache.mainDeviceId));
    } catch (err) {
      // Known id, no way to run it: failed where the cloud sees it, not left pending (and re-sent by every 500).
      if (!isConversionError(err)) throw err;
      this.ctx.tracker.request(cmdId);
      const ref = this.ctx.ref(op.opid, undefined);
      if (ref === undefined) throw err;
      return this.failNow(entity, ref, errorMessage(err));
    }
    this.ctx.tracker.request(cmdId);
    const { operation, c8yName } = handlerNames(handler);
    if (handler.kind === 'exec') return this.runExec(entity, handler.exec, jsonArgv(handler.exec.spec.command, op.json), this.ctx.ref(op.opid, c8yName));
    try {
      const body = commandBody(handler, op, {
        externalId: entity.externalId,
        cmdId,
        fileTransferBase: this.ctx.opts.fileTransferBase,
        rewriteUrl: (url) => proxyUrl(url, this.ctx.opts),
      });
      const topic = this.ctx.commandTopic(entity.topicId, operation, cmdId);
      if (handler.kind === 'builtin' && this.prefetched(entity, handler.fragment, op, operation, cmdId, topic, body, c8yName)) return [];
      return [message(topic, JSON.stringify(body), { qos: 1, retain: true })];
    } catch (err) {
      if (!isInvalidOperationError(err)) throw err;
      // The operation is known but malformed: fail it in the cloud rather than leave it pending.
      const ref = this.ctx.ref(op.opid, c8yName);
      return ref === undefined ? [] : this.failNow(entity, ref, err.message);
    }
  }

  /** A tenant binary is copied into the file transfer service first when a prefetcher is wired; true when handed over. */
  private prefetched(entity: C8yEntity, fragment: string, op: CloudOperation, operation: string, cmdId: string, commandTopic: string, body: JsonObject, c8yName: string): boolean {
    const prefetch = this.ctx.opts.prefetch;
    const f = op.json[fragment];
    if (prefetch === undefined || PREFETCHED[fragment] === undefined || !isJsonObject(f)) return false;
    const url = f['url'];
    if (typeof url !== 'string' || proxyUrl(url, this.ctx.opts) === url) return false;
    const name = typeof body['type'] === 'string' ? body['type'] : typeof body['name'] === 'string' ? body['name'] : operation;
    prefetch({ url, path: prefetchPath(entity.externalId, operation, name, cmdId), commandTopic, body, ref: this.ctx.ref(op.opid, c8yName), smartrestTopic: this.ctx.cache.smartrestTopic(entity.topicId) });
    return true;
  }

  private failNow(entity: C8yEntity, ref: OperationRef, reason: string): Message[] {
    return [this.ctx.smartrest(entity, executingLine(ref)), this.ctx.smartrest(entity, failedLine(ref, reason))];
  }

  /** Hands a command handler to the runner, which reports 504 and 506/505 itself as the command runs. */
  private runExec(entity: C8yEntity, handler: ExecHandler, argv: string[], ref: OperationRef | undefined): Message[] {
    if (ref === undefined) return [];
    if (this.ctx.opts.execute === undefined) return this.failNow(entity, ref, `custom operation ${handler.name} cannot run: this mapper runs no commands`);
    this.ctx.opts.execute(execRequest(handler.name, handler.spec, argv, ref, this.ctx.cache.smartrestTopic(entity.topicId)));
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
    const entity = this.ctx.cache.byExternalId(r.externalId);
    const fragment = SMARTREST_FRAGMENTS[r.template];
    if (entity === undefined) {
      if (fragment === undefined && !this.hasSmartrestHandler(r.template)) return [];
      throw new ConversionError(`Cannot execute SmartREST ${r.template}: no registered entity has the external id '${r.externalId}'`);
    }
    const handler = execHandlers(this.ctx.directory(), entity.externalId, this.ctx.cache.mainDeviceId).find((h) => h.spec.onMessage === r.template && this.isSmartrestTopic(h.spec.topic));
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
    const opid = `${SMARTREST_OPID}${this.ctx.newCommandId().slice(MAPPER_CMD_PREFIX.length)}`;
    return this.cloudOperation(JSON.stringify({ id: opid, ...json, externalSource: { externalId: entity.externalId, type: 'c8y_Serial' } }));
  }

  private hasSmartrestHandler(template: string): boolean {
    return [...this.ctx.directory().files.values()].some((files) => files.some((f) => f.exec?.onMessage === template));
  }

  /** Handlers name `c8y/s/ds` (thin-edge replaces `c8y/` by the prefix). */
  private isSmartrestTopic(topic: string | undefined): boolean {
    return topic === undefined || topic.replace(/^c8y\//, `${this.ctx.opts.prefix}/`) === `${this.ctx.opts.prefix}/s/ds`;
  }
}
