import { type Socket, connect, createServer } from 'node:net';

/**
 * A TCP proxy in front of a server that ends every connection `cutAfterMs` after it opened (a cloud
 * that drops its devices), or, with `cutAfterMs` undefined, forwards faithfully. `blackhole` accepts
 * connections and never answers (a TLS handshake that never completes).
 */
export class TcpCutter {
  connections = 0;
  private readonly sockets = new Set<Socket>();
  private readonly server = createServer((client) => this.accept(client));
  private listeningPort = 0;

  private constructor(
    private readonly target: { host: string; port: number } | 'blackhole',
    private readonly cutAfterMs: number | undefined,
  ) {}

  static async start(target: { host: string; port: number } | 'blackhole', cutAfterMs?: number): Promise<TcpCutter> {
    const cutter = new TcpCutter(target, cutAfterMs);
    await new Promise<void>((resolve) => cutter.server.listen(0, '127.0.0.1', resolve));
    const address = cutter.server.address();
    cutter.listeningPort = typeof address === 'object' && address ? address.port : 0;
    return cutter;
  }

  get endpoint(): string {
    return `127.0.0.1:${this.listeningPort}`;
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  private accept(client: Socket): void {
    this.connections++;
    this.track(client);
    if (this.target === 'blackhole') return;
    const upstream = connect(this.target.port, this.target.host);
    this.track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    if (this.cutAfterMs !== undefined) setTimeout(() => client.destroy(), this.cutAfterMs).unref();
  }

  stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
