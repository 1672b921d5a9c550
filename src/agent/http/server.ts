import { type IncomingMessage, type Server as HttpServer, type ServerResponse, createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, type Server as NetServer, type Socket, createServer as createNetServer } from 'node:net';
import type { TlsOptions } from 'node:tls';
import { TedgeError, errorMessage } from '../../core/errors';
import type { Logger } from '../../log/logger';
import type { Service } from '../../runtime/service';
import { type EntityRequests, handleEntities, refusal } from './entity-api';
import type { FileTransfer } from './file-transfer';
import { sendError } from './http-io';

export interface AgentHttpDeps {
  readonly address: string;
  readonly port: number;
  /** Undefined: plain HTTP. */
  readonly tls: TlsOptions | undefined;
  readonly files: FileTransfer;
  readonly entities: EntityRequests;
  readonly logger: Logger;
}

const FILES = '/te/v1/files/';
/** thin-edge's deprecated path, still served by it. */
const LEGACY_FILES = '/tedge/file-transfer/';
const ENTITIES = '/te/v1/entities';

/** A socket idle this long is closed: uploads may take long, but not stall forever. */
const IDLE_TIMEOUT_MS = 120_000;
/** The first byte of a TLS ClientHello record. */
const TLS_HANDSHAKE = 0x16;

/**
 * The agent's one HTTP server (§4.1): file transfer and entity API on http.bind.address:http.bind.port.
 *
 * node:http rather than a framework: the routes are a handful of prefixes, uploads must stream to disk
 * under our own size bound and atomic rename, and the body handling a framework would add (buffering,
 * parsers) is what the file transfer must avoid; no dependency is the smaller footprint on a device.
 *
 * With TLS, one port serves both, as thin-edge does: a connection whose first byte starts a TLS
 * handshake goes to the HTTPS server, anything else gets a 307 redirect to the same URL over https.
 */
export class AgentHttpService implements Service {
  readonly name = 'http-server';
  private listener: NetServer | HttpServer | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly deps: AgentHttpDeps) {}

  /** The bound port (useful with port 0 in tests). */
  get port(): number | undefined {
    const addr = this.listener?.address();
    return typeof addr === 'object' && addr !== null ? (addr as AddressInfo).port : undefined;
  }

  async start(): Promise<void> {
    const { address, port, tls, logger } = this.deps;
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.route(req, res);
    const options = { requestTimeout: 0 };
    let listener: NetServer | HttpServer;
    if (tls) {
      const secure = createHttpsServer({ ...tls, ...options }, handler);
      const plain = createHttpServer(options, (req, res) => redirectToHttps(req, res));
      this.configure(secure);
      this.configure(plain);
      listener = createNetServer((socket) => {
        socket.once('data', (first: Buffer) => {
          socket.pause();
          socket.unshift(first);
          (first[0] === TLS_HANDSHAKE ? secure : plain).emit('connection', socket);
          process.nextTick(() => socket.resume());
        });
      });
      secure.on('tlsClientError', (err) => logger.debug({ err: errorMessage(err) }, 'TLS handshake refused'));
    } else {
      listener = createHttpServer(options, handler);
      this.configure(listener as HttpServer);
    }
    listener.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      // A reset before the HTTP(S) server owns the socket (the TLS sniffing) must not be an uncaught error.
      socket.on('error', () => socket.destroy());
      socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        const why = err.code === 'EADDRINUSE' ? 'the address is already in use' : err.code === 'EADDRNOTAVAIL' ? 'the address is not on this host' : errorMessage(err);
        reject(new TedgeError('IO', `The agent HTTP service cannot listen on ${address}:${port} (http.bind.address, http.bind.port): ${why}`, { cause: err }));
      };
      listener.once('error', onError);
      listener.listen(port, address, () => {
        listener.off('error', onError);
        resolve();
      });
    });
    this.listener = listener;
    listener.on('error', (err) => logger.error({ err }, 'HTTP server error'));
    logger.info({ address, port: this.port, https: tls !== undefined, mtls: tls?.requestCert === true }, 'HTTP service listening');
  }

  async stop(): Promise<void> {
    const listener = this.listener;
    this.listener = undefined;
    if (!listener) return;
    const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private configure(server: HttpServer): void {
    // Answer `Expect: 100-continue` for an upload already too large before its body is sent.
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      if (req.method === 'PUT' && this.isFilePath(req.url ?? '') && this.deps.files.refusesUpfront(req)) {
        return sendError(res, 413, 'Failed to buffer the request body: length limit exceeded');
      }
      res.writeContinue();
      this.route(req, res);
    });
  }

  private isFilePath(url: string): boolean {
    return url.startsWith(FILES) || url.startsWith(LEGACY_FILES);
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    this.dispatch(req, res).catch((err: unknown) => {
      const refused = refusal(err);
      if (refused) return sendError(res, refused.status, refused.message);
      this.deps.logger.error({ err, method: req.method, url: req.url }, 'HTTP request failed');
      sendError(res, 500, 'Internal error');
    });
  }

  /** Routes on the raw (still percent-encoded) path: each handler decodes its own segments. */
  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const search = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
    if (path.startsWith(FILES)) return this.deps.files.handle(req, res, path.slice(FILES.length));
    if (path.startsWith(LEGACY_FILES)) {
      res.setHeader('deprecation', 'true');
      return this.deps.files.handle(req, res, path.slice(LEGACY_FILES.length));
    }
    if (path === ENTITIES || path.startsWith(`${ENTITIES}/`)) return handleEntities(this.deps.entities, req, res, path.slice(ENTITIES.length), search);
    sendError(res, 404, 'Not Found');
  }
}

/** thin-edge's answer to plain HTTP on an HTTPS port: a temporary redirect that keeps the method. */
function redirectToHttps(req: IncomingMessage, res: ServerResponse): void {
  const host = req.headers.host;
  if (host === undefined) return sendError(res, 400, 'This server does not support HTTP. Please retry this request using HTTPS');
  res.writeHead(307, { location: `https://${host}${req.url ?? '/'}`, 'content-length': 0, connection: 'close' });
  res.end();
}
