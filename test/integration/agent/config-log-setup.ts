import { mkdirSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentUnderTest, cmd } from '../../helpers/agent-under-test';
import type { BusProbe } from '../../helpers/bus-probe';
import type { Daemon } from '../../helpers/daemon';

/**
 * A stand-in for the file transfer service (and a cloud's file server): PUT stores the body, GET serves
 * what is stored. `onGet` may take over a GET (a stalling download, a body cut short).
 */
export class FileServer {
  readonly stored = new Map<string, Buffer>();
  onGet: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<FileServer> {
    let self: FileServer | undefined;
    const server = createServer((req, res) => self?.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    self = new FileServer(server, (server.address() as AddressInfo).port);
    return self;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '';
      if (req.method === 'PUT') {
        this.stored.set(url, Buffer.concat(chunks));
        res.writeHead(201).end();
        return;
      }
      if (this.onGet?.(req, res)) return;
      const body = this.stored.get(url);
      if (body === undefined) res.writeHead(404).end('not found');
      else res.writeHead(200, { 'content-length': String(body.length) }).end(body);
    });
  }
}

/**
 * The agent under test with what the config and log operations need: a file server for tedgeUrl (the
 * test's, unless `ownFileTransfer`), and configuration.plugin_paths / log.plugin_paths of its own.
 */
export class ConfigLogDevice {
  /** The main device's agent, started last. */
  agent: Daemon | undefined;

  private constructor(
    private readonly device: AgentUnderTest,
    readonly files: FileServer,
  ) {}

  /** `ownFileTransfer`: tedgeUrls the agent fills in point at its own HTTP service, not at the test's server. */
  static async start(opts: { readonly ownFileTransfer?: boolean } = {}): Promise<ConfigLogDevice> {
    const device = await AgentUnderTest.start('cfglog');
    const files = await FileServer.start();
    for (const d of ['config/plugins', 'config-plugins', 'log-plugins', 'etc']) mkdirSync(device.path(d), { recursive: true });
    Object.assign(device.env, {
      TEDGE_CONFIGURATION_PLUGIN_PATHS: device.path('config-plugins'),
      TEDGE_LOG_PLUGIN_PATHS: device.path('log-plugins'),
      // tedgeUrls the agent fills in point at the test's file server, so the uploaded bytes can be checked either way.
      ...(opts.ownFileTransfer ? {} : { TEDGE_HTTP_CLIENT_PORT: String(files.port) }),
    });
    return new ConfigLogDevice(device, files);
  }

  get env(): Record<string, string> {
    return this.device.env;
  }

  path(...parts: string[]): string {
    return this.device.path(...parts);
  }

  probe(filters: readonly string[]): Promise<BusProbe> {
    return this.device.probe(filters);
  }

  /** Starts the agent and waits until it is up with its own pid; `child`: an agent for device/<child>//. */
  async startAgent(opts: { readonly child?: string; readonly env?: Record<string, string> } = {}): Promise<Daemon> {
    if (opts.child === undefined) {
      this.agent = await this.device.startAgent({ ...(opts.env ? { env: opts.env } : {}) });
      return this.agent;
    }
    return this.device.startAgent({
      args: ['--mqtt-device-topic-id', `device/${opts.child}//`],
      health: `te/device/${opts.child}/service/tedge-agent/status/health`,
      ...(opts.env ? { env: opts.env } : {}),
    });
  }

  /** Publishes a command retained (as a mapper does) and waits for its terminal state. */
  async command(op: string, id: string, payload: Record<string, unknown>, timeoutMs = 20_000, device = 'main'): Promise<Record<string, unknown>> {
    const p = await this.probe([cmd(op, id, device)]);
    return this.device.runCommand(p, op, id, { status: 'init', ...payload }, timeoutMs, device);
  }

  /** Waits for the terminal state of a command (successful or failed). */
  async terminal(op: string, id: string, timeoutMs = 20_000, existing?: BusProbe, device = 'main'): Promise<Record<string, unknown>> {
    const p = existing ?? (await this.probe([cmd(op, id, device)]));
    return this.device.awaitCommand(p, op, id, timeoutMs, device);
  }

  async stop(): Promise<void> {
    this.agent = undefined;
    await this.device.close();
    await this.files.close();
  }
}
