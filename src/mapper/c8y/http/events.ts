import type { Readable } from 'node:stream';
import { ConversionError } from '../../../core/errors';
import { parseJsonObject } from '../../../core/json';
import { type C8yHttpClient, C8yHttpError, readJson } from './c8y-client';
import type { IdentityCache } from './identity';
import { multipartFrame, multipartStream } from './multipart';

export interface Attachment {
  readonly file: Readable;
  /** Known size of the file; with it the upload has a Content-Length, else it is chunked. */
  readonly size?: number;
  readonly filename: string;
  readonly mimeType: string;
  readonly fields?: Readonly<Record<string, string>>;
}

export interface NewEvent {
  readonly externalId: string;
  readonly type: string;
  readonly text: string;
  readonly time: string;
  /** Extra fragments of the event. */
  readonly fragments?: Readonly<Record<string, unknown>>;
}

/**
 * Events over Cumulocity's REST API: an event referencing the managed object of an external id, and a
 * binary attached to it (POST /event/events, then POST /event/events/<id>/binaries, multipart).
 */
export class C8yEvents {
  constructor(
    private readonly client: C8yHttpClient,
    private readonly identity: IdentityCache,
  ) {}

  /** Creates the event; its id. */
  async create(e: NewEvent, signal?: AbortSignal): Promise<string> {
    const id = await this.identity.internalId(e.externalId, signal);
    const answer = await this.client.json('POST', '/event/events', { ...e.fragments, source: { id }, type: e.type, text: e.text, time: e.time }, signal);
    const eventId = answer['id'];
    if (typeof eventId !== 'string' && typeof eventId !== 'number') throw new C8yHttpError('POST /event/events on Cumulocity: the answer has no event id', undefined);
    return String(eventId);
  }

  /**
   * An event too large for MQTT, as the converter wrote it for `c8y/event/events/create`: the
   * `externalSource` it may carry is replaced by the `source` REST needs.
   */
  async createFromMqttPayload(externalId: string, payload: string, signal?: AbortSignal): Promise<string> {
    const json = parseJsonObject(payload, 'an event');
    const { externalSource, ...rest } = json;
    const xid = typeof externalSource === 'object' && externalSource !== null && !Array.isArray(externalSource) && typeof externalSource['externalId'] === 'string' ? externalSource['externalId'] : externalId;
    const id = await this.identity.internalId(xid, signal);
    if (typeof rest['type'] !== 'string') throw new ConversionError('the event has no type');
    const answer = await this.client.json('POST', '/event/events', { ...rest, source: { id } }, signal);
    return String(answer['id'] ?? '');
  }

  /** Attaches a file to an event, streamed; the URL of the binary on the tenant. */
  async attach(eventId: string, a: Attachment, signal?: AbortSignal): Promise<string> {
    const frame = multipartFrame({ filename: a.filename, mimeType: a.mimeType, ...(a.fields ? { fields: a.fields } : {}) });
    const path = `/event/events/${encodeURIComponent(eventId)}/binaries`;
    const headers: Record<string, string> = { accept: 'application/json', 'content-type': frame.contentType };
    if (a.size !== undefined) headers['content-length'] = String(frame.head.length + a.size + frame.tail.length);
    else headers['transfer-encoding'] = 'chunked';
    const res = await this.client.request({ method: 'POST', path, headers, body: multipartStream(frame, a.file), ...(signal ? { signal } : {}) });
    await readJson(res, `POST ${path}`);
    return `${this.client.baseUrl}${path}`;
  }
}
