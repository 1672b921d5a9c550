import { ConversionError } from '../../../core/errors';
import { parseJsonObject } from '../../../core/json';
import type { EntityTopicId } from '../../../core/topics';

/** Operations whose success means "a file is waiting in the file-transfer service, attach it to a c8y event". */
export type UploadOperation = 'config_snapshot' | 'log_upload';

export function isUploadOperation(op: string): op is UploadOperation {
  return op === 'config_snapshot' || op === 'log_upload';
}

/**
 * Work the mapper must do over HTTP before the operation can be reported successful: download `tedgeUrl`,
 * create an event of type `eventType` for `externalId` with the file attached, then call
 * `C8yOperations.uploadFinished` with the binary URL (or the failure). Self-contained, so the request can
 * travel as a message and survive being handled by another component.
 */
export interface UploadRequest {
  readonly topicId: EntityTopicId;
  readonly operation: UploadOperation;
  readonly cmdId: string;
  readonly externalId: string;
  readonly tedgeUrl: string;
  /** The config or log type: the type of the Cumulocity event carrying the file. */
  readonly eventType: string;
}

export type UploadOutcome = { readonly ok: true; readonly binaryUrl: string } | { readonly ok: false; readonly reason: string };

/**
 * Upload requests go on `<prefix>/http/uploads/<xid>`, beside `<prefix>/http/events/create/<xid>`:
 * local topics the mapper serves itself over HTTP; the bridge does not forward `<prefix>/http/`.
 */
export function uploadRequestTopic(prefix: string, externalId: string): string {
  return `${prefix}/http/uploads/${externalId}`;
}

/**
 * An inventory update the mapper sends over HTTP (PUT /inventory/managedObjects/<id>) rather than MQTT:
 * the legacy software list, which thin-edge sends this way and which may be larger than an MQTT message.
 */
export function httpInventoryUpdateTopic(prefix: string, externalId: string): string {
  return `${prefix}/http/inventory/update/${externalId}`;
}

export function isUploadRequestTopic(prefix: string, topic: string): boolean {
  return topic.startsWith(`${prefix}/http/uploads/`);
}

export function parseUploadRequest(text: string): UploadRequest {
  const o = parseJsonObject(text, 'an upload request');
  const s = (k: string): string => {
    const v = o[k];
    if (typeof v !== 'string') throw new ConversionError(`Invalid upload request: "${k}" must be a string`);
    return v;
  };
  const operation = s('operation');
  if (!isUploadOperation(operation)) throw new ConversionError(`Invalid upload request: unknown operation '${operation}'`);
  return { topicId: s('topicId'), operation, cmdId: s('cmdId'), externalId: s('externalId'), tedgeUrl: s('tedgeUrl'), eventType: s('eventType') };
}
