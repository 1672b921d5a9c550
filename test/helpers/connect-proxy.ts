import { type IncomingMessage, type Server, createServer } from 'node:http';
import { type AddressInfo, type Socket, connect } from 'node:net';

/** One CONNECT request the proxy saw: the tunnel's target and its Proxy-Authorization ('-' without). */
export interface TunnelRecord {
  readonly target: string;
  readonly auth: string;
}

/**
 * A small HTTP CONNECT proxy (the kind `proxy.address` names) on a free port: it records each tunnel
 * and pipes the bytes; with `credentials` it refuses (407) a tunnel without them.
 */
export class ConnectProxy {
  readonly tunnels: TunnelRecord[] = [];
  /** Tunnelled sockets, which the HTTP server no longer tracks: destroyed at stop. */
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(credentials?: { username: string; password: string }): Promise<ConnectProxy> {
    const expected = credentials ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` : undefined;
    const server = createServer();
    const proxy = await new Promise<ConnectProxy>((resolve) => server.listen(0, '127.0.0.1', () => resolve(new ConnectProxy(server, (server.address() as AddressInfo).port))));
    server.on('connect', (req: IncomingMessage, client: Socket) => {
      const auth = req.headers['proxy-authorization'] ?? '-';
      proxy.tunnels.push({ target: req.url ?? '', auth });
      proxy.sockets.add(client);
      client.on('close', () => proxy.sockets.delete(client));
      client.on('error', () => client.destroy());
      if (expected !== undefined && auth !== expected) {
        client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n');
        return;
      }
      const i = (req.url ?? '').lastIndexOf(':');
      const upstream = connect(Number((req.url ?? '').slice(i + 1)), (req.url ?? '').slice(0, i), () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(client);
        client.pipe(upstream);
      });
      proxy.sockets.add(upstream);
      upstream.on('close', () => proxy.sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
    });
    return proxy;
  }

  get address(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The targets of the tunnels opened so far. */
  targets(): string[] {
    return this.tunnels.map((t) => t.target);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
