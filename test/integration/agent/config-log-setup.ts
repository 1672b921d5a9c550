import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BusProbe } from '../../helpers/bus-probe';
import { Daemon } from '../../helpers/daemon';
import { Mosquitto, freePort } from '../../helpers/mosquitto';

const HEALTH = 'te/device/main/service/tedge-agent/status/health';

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

/** A device in a temp dir: mosquitto, a file server for tedgeUrl, the agent as a process. */
export class ConfigLogDevice {
  agent: Daemon | undefined;
  private readonly children: Daemon[] = [];
  private readonly probes: BusProbe[] = [];

  private constructor(
    readonly broker: Mosquitto,
    readonly files: FileServer,
    readonly dir: string,
    readonly env: Record<string, string>,
  ) {}

  /** `ownFileTransfer`: tedgeUrls the agent fills in point at its own HTTP service, not at the test's server. */
  static async start(opts: { readonly ownFileTransfer?: boolean } = {}): Promise<ConfigLogDevice> {
    const broker = await Mosquitto.start();
    const files = await FileServer.start();
    const dir = mkdtempSync(join(tmpdir(), 'tedge-cfglog-it-'));
    for (const d of ['config/plugins', 'state', 'logs', 'tmp', 'data', 'config-plugins', 'log-plugins', 'etc']) mkdirSync(join(dir, d), { recursive: true });
    const env: Record<string, string> = {
      TEDGE_CONFIG_DIR: join(dir, 'config'),
      TEDGE_MQTT_CLIENT_PORT: String(broker.port),
      TEDGE_AGENT_STATE_PATH: join(dir, 'state'),
      TEDGE_LOGS_PATH: join(dir, 'logs'),
      TEDGE_TMP_PATH: join(dir, 'tmp'),
      TEDGE_DATA_PATH: join(dir, 'data'),
      TEDGE_RUN_PATH: join(dir, 'state'),
      TEDGE_SUDO_ENABLE: 'false',
      TEDGE_CONFIGURATION_PLUGIN_PATHS: join(dir, 'config-plugins'),
      TEDGE_LOG_PLUGIN_PATHS: join(dir, 'log-plugins'),
      // The agent's own HTTP service (when it has one) on a free port; tedgeUrls it fills in point at
      // the test's file server, so the uploaded bytes can be checked either way.
      TEDGE_HTTP_BIND_PORT: String(await freePort()),
      ...(opts.ownFileTransfer ? {} : { TEDGE_HTTP_CLIENT_PORT: String(files.port) }),
    };
    return new ConfigLogDevice(broker, files, dir, env);
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  async probe(filters: readonly string[]): Promise<BusProbe> {
    const p = await BusProbe.connect(this.broker.port, filters);
    this.probes.push(p);
    return p;
  }

  /** Starts the agent and waits until it is up with its own pid; `child`: an agent for device/<child>//. */
  async startAgent(opts: { readonly child?: string; readonly env?: Record<string, string> } = {}): Promise<Daemon> {
    const health = opts.child === undefined ? HEALTH : `te/device/${opts.child}/service/tedge-agent/status/health`;
    const watcher = await this.probe([health]);
    const daemon = Daemon.start('tedge-agent', opts.child === undefined ? [] : ['--mqtt-device-topic-id', `device/${opts.child}//`], { ...this.env, ...opts.env });
    if (opts.child === undefined) this.agent = daemon;
    else this.children.push(daemon);
    const pid = daemon.process.pid;
    await watcher
      .waitForText(health, (t) => t.includes('"up"') && t.includes(`"pid":${pid}`), 15_000)
      .catch((err: unknown) => {
        throw new Error(`${String(err)}\nagent output:\n${daemon.output}`);
      });
    return daemon;
  }

  /** Publishes a command retained (as a mapper does) and waits for its terminal state. */
  async command(op: string, id: string, payload: Record<string, unknown>, timeoutMs = 20_000, device = 'main'): Promise<Record<string, unknown>> {
    const topic = `te/device/${device}///cmd/${op}/${id}`;
    const p = await this.probe([topic]);
    await p.publish(topic, JSON.stringify({ status: 'init', ...payload }), { retain: true });
    return this.terminal(op, id, timeoutMs, p, device);
  }

  /** Waits for the terminal state of a command (successful or failed). */
  async terminal(op: string, id: string, timeoutMs = 20_000, existing?: BusProbe, device = 'main'): Promise<Record<string, unknown>> {
    const topic = `te/device/${device}///cmd/${op}/${id}`;
    const p = existing ?? (await this.probe([topic]));
    const text = await p
      .waitForText(topic, (t) => /"status":"(successful|failed)"/.test(t), timeoutMs)
      .catch((err: unknown) => {
        throw new Error(`${String(err)}\nagent output:\n${this.agent?.output ?? ''}`);
      });
    return JSON.parse(text) as Record<string, unknown>;
  }

  async stop(): Promise<void> {
    await this.agent?.stop('SIGKILL');
    this.agent = undefined;
    await Promise.all(this.children.splice(0).map((d) => d.stop('SIGKILL')));
    await Promise.all(this.probes.splice(0).map((p) => p.close()));
    await this.files.close();
    await this.broker.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
