import { createReadStream, statSync } from 'node:fs';
import { request } from 'node:http';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { errorMessage } from '../../../core/errors';
import type { Logger } from '../../../log/logger';
import { multipartFrame, multipartStream } from '../http/multipart';
import type { OperationLogRequest } from './operation-log';

interface Reply {
  readonly status: number;
  readonly body: string;
}

/**
 * Uploads the agent's operation logs (`c8y.operations.auto_log_upload`) as a local client of the mapper's
 * Cumulocity proxy (`http://<c8y.proxy.client.host>:<port>/c8y`), which adds the device's credentials:
 * the identity lookup, the event `<op>_op_log`, then the log as its binary, streamed. Best effort: a
 * failure is logged, the operation's status is not affected (as in thin-edge).
 */
export class OperationLogUploader {
  constructor(
    private readonly proxyBase: string,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  submit(req: OperationLogRequest): void {
    void this.upload(req).then(
      (eventId) => eventId !== undefined && this.logger.info({ operation: req.operation, cmdId: req.cmdId, eventId }, 'operation log uploaded'),
      (err: unknown) => this.logger.warn({ operation: req.operation, cmdId: req.cmdId, error: errorMessage(err) }, 'operation log not uploaded'),
    );
  }

  /** The event id; undefined when the agent wrote no log for the command. */
  async upload(req: OperationLogRequest): Promise<string | undefined> {
    let size: number;
    try {
      size = statSync(req.logPath).size;
    } catch {
      return undefined;
    }
    const identity = await this.call('GET', `/identity/externalIds/c8y_Serial/${encodeURIComponent(req.externalId)}`);
    const source = (JSON.parse(identity.body) as { managedObject?: { id?: string } }).managedObject?.id;
    if (source === undefined) throw new Error(`no managed object for '${req.externalId}'`);
    const event = { source: { id: source }, type: req.eventType, text: req.text, time: this.now().toISOString() };
    const created = await this.call('POST', '/event/events', { contentType: 'application/json', body: Buffer.from(JSON.stringify(event)) });
    const id = (JSON.parse(created.body) as { id?: string }).id;
    if (id === undefined) throw new Error('the event was created without an id');
    const frame = multipartFrame({ filename: `${req.externalId}_${basename(req.logPath)}`, mimeType: 'text/plain' });
    await this.call('POST', `/event/events/${id}/binaries`, {
      contentType: frame.contentType,
      body: multipartStream(frame, createReadStream(req.logPath)),
      length: frame.head.length + size + frame.tail.length,
    });
    return id;
  }

  private call(method: string, path: string, send?: { contentType: string; body: Buffer | Readable; length?: number }): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { accept: 'application/json' };
      if (send !== undefined) {
        headers['content-type'] = send.contentType;
        const length = Buffer.isBuffer(send.body) ? send.body.length : send.length;
        if (length !== undefined) headers['content-length'] = length;
      }
      const req = request(`${this.proxyBase}${path}`, { method, headers, timeout: 60_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve({ status, body });
          else reject(new Error(`${method} ${path}: HTTP ${status} ${body.slice(0, 200)}`));
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      if (send === undefined) req.end();
      else if (Buffer.isBuffer(send.body)) req.end(send.body);
      else {
        send.body.on('error', (e) => req.destroy(e));
        send.body.pipe(req);
      }
    });
  }
}
