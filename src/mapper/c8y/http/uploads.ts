import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { errorMessage } from '../../../core/errors';
import type { UploadOutcome, UploadRequest } from '../operations';
import type { C8yEvents } from './events';
import type { FileTransferClient } from './file-transfer';

/**
 * Serves one upload request of a successful config_snapshot / log_upload (thin-edge's
 * c8y_mapper_ext upload): the file the agent put on the file transfer service becomes the binary of
 * a new event of the config or log type, then it is removed from the service. Streamed end to end.
 */
export async function serveUpload(
  request: UploadRequest,
  deps: { readonly events: C8yEvents; readonly files: FileTransferClient; readonly now: () => Date; readonly signal: AbortSignal; readonly warn: (line: string) => void },
): Promise<UploadOutcome> {
  try {
    const file = await deps.files.get(request.tedgeUrl, deps.signal);
    let binaryUrl: string;
    try {
      const eventId = await deps.events.create({ externalId: request.externalId, type: request.eventType, text: request.eventType, time: deps.now().toISOString() }, deps.signal);
      binaryUrl = await deps.events.attach(
        eventId,
        {
          file: file.body,
          ...(file.size !== undefined ? { size: file.size } : {}),
          filename: `${request.externalId}_${basename(new URL(request.tedgeUrl).pathname)}`,
          mimeType: request.operation === 'log_upload' ? 'text/plain' : 'application/octet-stream',
        },
        deps.signal,
      );
    } finally {
      file.body.destroy();
    }
    const failed = await deps.files.delete(request.tedgeUrl);
    if (failed !== undefined) deps.warn(`could not remove ${request.tedgeUrl} from the file transfer service: ${failed}`);
    return { ok: true, binaryUrl };
  } catch (e) {
    return { ok: false, reason: `Failed to upload the ${request.operation === 'log_upload' ? 'log' : 'configuration'} file '${request.eventType}': ${errorMessage(e)}` };
  }
}

/** A local file as the binary of a new event (thin-edge's operation log upload: `<op>_op_log`); the binary's URL. */
export async function uploadLocalFile(
  events: C8yEvents,
  f: { readonly externalId: string; readonly filePath: string; readonly eventType: string; readonly text: string; readonly mimeType: string; readonly time: Date },
  signal?: AbortSignal,
): Promise<string> {
  const { size } = await stat(f.filePath);
  const eventId = await events.create({ externalId: f.externalId, type: f.eventType, text: f.text, time: f.time.toISOString() }, signal);
  return events.attach(eventId, { file: createReadStream(f.filePath), size, filename: `${f.externalId}_${basename(f.filePath)}`, mimeType: f.mimeType }, signal);
}
