import { type IncomingMessage, type Server, type ServerResponse, createServer as createHttp } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { x509 } from '../../../src/certs/x509-lib';
import { SIM_TENANT, authorized } from './rest-auth';

export interface HttpRecord {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | undefined;
  readonly authorization: string | undefined;
  readonly body: Buffer;
}

/** What the REST side needs of the rest of the simulator. */
export interface SimHttpHooks {
  readonly validTokens: ReadonlySet<string>;
  readonly identities: ReadonlyMap<string, string>;
  /** A trusted certificate was posted: the MQTT broker must accept it from now on. */
  readonly trust: (certPem: string) => Promise<void>;
  /** The tenant CA signs a device's CSR (PEM); the certificate (PEM). */
  readonly signCsr: (csrPem: string) => string;
}

export interface StoredBinary {
  readonly content: Buffer;
  readonly contentType: string;
}

/**
 * The HTTP side of the simulated Cumulocity: every route needs a JWT the tenant handed out on s/dat or a
 * user's basic auth (401 otherwise). Log/config uploads go to an event (POST /event/events, then POST
 * /event/events/<id>/binaries), firmware/software downloads come from GET /inventory/binaries/<id>,
 * identity lookups (GET /identity/externalIds/c8y_Serial/<xid>), the tenant (GET /tenant/currentTenant)
 * and trusted certificates (POST /tenant/tenants/<t>/trusted-certificates, which the MQTT broker then
 * accepts), inventory updates (PUT /inventory/managedObjects/<id>). Every request is recorded; unknown routes answer 404.
 */
export class SimHttp {
  readonly requests: HttpRecord[] = [];
  readonly events = new Map<string, { json: Record<string, unknown>; binary?: StoredBinary }>();
  readonly binaries = new Map<string, StoredBinary>();
  /** Users allowed basic auth, name → password (`<user>` or `t-sim/<user>` in the header). */
  readonly users = new Map<string, string>();
  /** Certificates posted to the trusted-certificates API, by name. */
  readonly trustedCertificates = new Map<string, string>();
  /** Fragments PUT on managed objects (PUT /inventory/managedObjects/<id>), by managed object id, merged. */
  readonly managedObjects = new Map<string, Record<string, unknown>>();
  /** Devices registered for enrollment (EST simpleenroll), id → one-time password, as a user does in the UI. */
  readonly registrations = new Map<string, string>();
  private server: Server | undefined;
  private readonly listeners: Array<(r: HttpRecord) => void> = [];
  private nextId = 5000;

  constructor(
    private readonly baseUrl: () => string,
    private readonly hooks: SimHttpHooks,
  ) {}

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

  /** Called with every request, as it arrives (the demo prints them). */
  onRequest(listener: (r: HttpRecord) => void): void {
    this.listeners.push(listener);
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

  /** EST: a base64 CSR in, the certificate signed by the tenant CA out as base64 PKCS#7. */
  private enroll(res: ServerResponse, body: Buffer): void {
    const b64 = body.toString('utf8').replace(/\s+/g, '');
    const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${(b64.match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
    let pkcs7: string;
    try {
      const lib = x509();
      pkcs7 = new lib.X509Certificates([new lib.X509Certificate(this.hooks.signCsr(pem))]).export('base64');
    } catch (e) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid CSR', message: (e as Error).message }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/pkcs7-mime; smime-type=certs-only' });
    res.end(pkcs7);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    const contentType = req.headers['content-type'];
    const record = { method, path, contentType, authorization: req.headers.authorization, body };
    this.requests.push(record);
    for (const l of this.listeners) l(record);
    const json = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (method === 'POST' && path === '/.well-known/est/simpleenroll') {
      // Enrollment authenticates with the device id and its one-time password, nothing else.
      if (!authorized(req.headers.authorization, new Set(), this.registrations)) return json(401, { error: 'security/Unauthorized', message: 'the device is not registered (or the one-time password is wrong)' });
      return this.enroll(res, body);
    }
    if (!authorized(req.headers.authorization, this.hooks.validTokens, this.users)) return json(401, { error: 'security/Unauthorized', message: 'Invalid credentials!' });
    let m: RegExpExecArray | null;
    if ((method === 'GET' || method === 'HEAD') && path === '/tenant/currentTenant') return json(200, { name: SIM_TENANT, domainName: '127.0.0.1' });
    if (method === 'POST' && (m = /^\/tenant\/tenants\/([^/]+)\/trusted-certificates$/.exec(path))) {
      if (m[1] !== SIM_TENANT) return json(404, { error: `no tenant ${m[1] ?? ''}` });
      let cert: { name?: unknown; certInPemFormat?: unknown };
      try {
        cert = JSON.parse(body.toString('utf8')) as typeof cert;
      } catch {
        return json(422, { error: 'invalid JSON' });
      }
      if (typeof cert.certInPemFormat !== 'string' || typeof cert.name !== 'string') return json(422, { error: 'name and certInPemFormat are required' });
      const pem = cert.certInPemFormat.trim();
      if ([...this.trustedCertificates.values()].includes(pem)) return json(409, { error: 'certificate already exists' });
      this.trustedCertificates.set(cert.name, pem);
      await this.hooks.trust(pem);
      return json(201, { name: cert.name, status: 'ENABLED', autoRegistrationEnabled: true });
    }
    if (method === 'GET' && (m = /^\/identity\/externalIds\/c8y_Serial\/([^/]+)$/.exec(path))) {
      const xid = decodeURIComponent(m[1] ?? '');
      const id = this.hooks.identities.get(xid);
      if (id === undefined) return json(404, { error: 'identity/Not Found', message: `External id not found; external id = ID [type=c8y_Serial, value=${xid}]` });
      return json(200, { externalId: xid, type: 'c8y_Serial', managedObject: { id, self: `${this.baseUrl()}/inventory/managedObjects/${id}` } });
    }
    if (method === 'POST' && path === '/.well-known/est/simplereenroll') return this.enroll(res, body);
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
    if (method === 'PUT' && (m = /^\/inventory\/managedObjects\/([^/]+)$/.exec(path))) {
      const id = decodeURIComponent(m[1] ?? '');
      if (![...this.hooks.identities.values()].includes(id)) return json(404, { error: 'inventory/Not Found', message: `Finding device data from database failed : No managedObject for id '${id}'!` });
      let fragments: Record<string, unknown>;
      try {
        fragments = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      } catch {
        return json(422, { error: 'invalid JSON' });
      }
      const mo = { ...this.managedObjects.get(id), ...fragments };
      this.managedObjects.set(id, mo);
      return json(200, { ...mo, id, self: `${this.baseUrl()}/inventory/managedObjects/${id}` });
    }
    if (method === 'POST' && path === '/inventory/binaries') {
      const id = this.addBinary(body, contentType ?? 'application/octet-stream');
      return json(201, { id, self: `${this.baseUrl()}/inventory/binaries/${id}` });
    }
    json(404, { error: `no route for ${method} ${path}` });
  }
}
