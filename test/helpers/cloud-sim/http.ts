import { type IncomingMessage, type Server, type ServerResponse, createServer as createHttp } from 'node:http';
import { createServer as createHttps } from 'node:https';

export interface HttpRecord {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | undefined;
  readonly authorization: string | undefined;
  readonly body: Buffer;
}

export interface StoredBinary {
  readonly content: Buffer;
  readonly contentType: string;
}

/**
 * The HTTP side of the simulated Cumulocity, for binaries: log/config uploads go to an event
 * (POST /event/events, then POST /event/events/<id>/binaries), firmware/software downloads come
 * from GET /inventory/binaries/<id>. Every request is recorded; unknown routes answer 404.
 */
export class SimHttp {
  readonly requests: HttpRecord[] = [];
  readonly events = new Map<string, { json: Record<string, unknown>; binary?: StoredBinary }>();
  readonly binaries = new Map<string, StoredBinary>();
  private server: Server | undefined;
  private nextId = 5000;

  constructor(private readonly baseUrl: () => string) {}

  async start(port: number, tls?: { cert: Buffer; key: Buffer }): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.handle(req, res);
    this.server = tls ? createHttps({ cert: tls.cert, key: tls.key }, handler) : createHttp(handler);
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** A binary the device may download, as if uploaded to the tenant's software/firmware repository. */
  addBinary(content: Buffer | string, contentType = 'application/octet-stream'): string {
    const id = String(this.nextId++);
    this.binaries.set(id, { content: Buffer.from(content), contentType });
    return id;
  }

  /** The file part of an event's binary (multipart/form-data unwrapped), as text. */
  eventFile(eventId: string): string | undefined {
    const b = this.events.get(eventId)?.binary;
    if (!b) return undefined;
    const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(b.contentType);
    const text = b.content.toString('utf8');
    if (!boundary) return text;
    const part = text.split(`--${boundary[1] ?? boundary[2]}`).find((p) => /name="file"/.test(p)) ?? '';
    const start = part.indexOf('\r\n\r\n');
    return start < 0 ? undefined : part.slice(start + 4).replace(/\r\n$/, '');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    const contentType = req.headers['content-type'];
    this.requests.push({ method, path, contentType, authorization: req.headers.authorization, body });
    const json = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    let m: RegExpExecArray | null;
    if (method === 'POST' && path === '/event/events') {
      const id = String(this.nextId++);
      let event: Record<string, unknown> = {};
      try {
        event = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      } catch {
        return json(422, { error: 'invalid JSON' });
      }
      this.events.set(id, { json: event });
      return json(201, { ...event, id, self: `${this.baseUrl()}/event/events/${id}` });
    }
    if ((m = /^\/event\/events\/([^/]+)\/binaries$/.exec(path))) {
      const event = this.events.get(m[1] ?? '');
      if (!event) return json(404, { error: 'no such event' });
      if (method === 'GET') {
        if (!event.binary) return json(404, { error: 'no binary' });
        res.writeHead(200, { 'content-type': event.binary.contentType });
        res.end(event.binary.content);
        return;
      }
      event.binary = { content: body, contentType: contentType ?? 'application/octet-stream' };
      return json(201, { self: `${this.baseUrl()}${path}`, source: { id: m[1] }, length: body.length });
    }
    if (method === 'GET' && (m = /^\/inventory\/binaries\/([^/]+)$/.exec(path))) {
      const bin = this.binaries.get(m[1] ?? '');
      if (!bin) return json(404, { error: 'no such binary' });
      res.writeHead(200, { 'content-type': bin.contentType, 'content-length': bin.content.length });
      res.end(bin.content);
      return;
    }
    if (method === 'POST' && path === '/inventory/binaries') {
      const id = this.addBinary(body, contentType ?? 'application/octet-stream');
      return json(201, { id, self: `${this.baseUrl()}/inventory/binaries/${id}` });
    }
    json(404, { error: `no route for ${method} ${path}` });
  }
}
