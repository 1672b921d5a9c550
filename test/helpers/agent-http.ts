import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BusProbe } from './bus-probe';
import { Daemon } from './daemon';
import { Mosquitto, freePort } from './mosquitto';

const HEALTH = 'te/device/main/service/tedge-agent/status/health';

export interface HttpReply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  text(): string;
  json(): unknown;
}

export interface RequestOptions {
  readonly body?: string | Buffer | Readable;
  readonly headers?: Record<string, string>;
  /** https: options for the TLS client (ca, cert, key). */
  readonly tls?: { ca?: string; cert?: string; key?: string };
}

/** One HTTP request with the path sent exactly as given (no client-side normalisation of `..`). */
export function send(port: number, method: string, path: string, opts: RequestOptions = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const base = { host: '127.0.0.1', port, method, path, headers: opts.headers ?? {} };
    const onResponse = (res: import('node:http').IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          text: () => body.toString('utf8'),
          json: () => JSON.parse(body.toString('utf8')) as unknown,
        });
      });
      res.on('error', reject);
    };
    const req = opts.tls ? httpsRequest({ ...base, ...opts.tls, servername: 'localhost' }, onResponse) : httpRequest(base, onResponse);
    req.on('error', reject);
    const body = opts.body;
    if (body === undefined) req.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

/** A real mosquitto, a temp device directory and a real tedge-agent process with its HTTP service. */
export class AgentUnderTest {
  private readonly probes: BusProbe[] = [];

  private constructor(
    readonly broker: Mosquitto,
    readonly dir: string,
    readonly httpPort: number,
    readonly agent: Daemon,
    /** The environment the agent runs with (for starting more processes on the same device). */
    readonly env: Record<string, string>,
  ) {}

  /** `<data.path>/file-transfer` */
  get fileRoot(): string {
    return join(this.dir, 'data', 'file-transfer');
  }

  /** `extraEnv` may be a function of the device directory (for files the test makes there first). */
  static async start(extraEnv: Record<string, string> | ((dir: string) => Record<string, string>) = {}): Promise<AgentUnderTest> {
    const broker = await Mosquitto.start();
    const dir = mkdtempSync(join(tmpdir(), 'tedge-agent-http-'));
    mkdirSync(join(dir, 'config'));
    const httpPort = await freePort();
    const env = {
      TEDGE_CONFIG_DIR: join(dir, 'config'),
      TEDGE_MQTT_CLIENT_PORT: String(broker.port),
      TEDGE_AGENT_STATE_PATH: join(dir, 'state'),
      TEDGE_DATA_PATH: join(dir, 'data'),
      TEDGE_LOGS_PATH: join(dir, 'logs'),
      TEDGE_RUN_PATH: join(dir, 'run'),
      TEDGE_TMP_PATH: join(dir, 'tmp'),
      TEDGE_HTTP_BIND_PORT: String(httpPort),
      ...(typeof extraEnv === 'function' ? extraEnv(dir) : extraEnv),
    };
    const watcher = await BusProbe.connect(broker.port, [HEALTH]);
    const agent = Daemon.start('tedge-agent', [], env);
    const pid = agent.process.pid;
    const under = new AgentUnderTest(broker, dir, httpPort, agent, env);
    under.probes.push(watcher);
    // The HTTP service starts before the agent reports `up`: `up` means it listens.
    await watcher
      .waitForText(HEALTH, (t) => t.includes('"up"') && t.includes(`"pid":${pid}`), 20_000)
      .catch(async (err: unknown) => {
        await under.stop();
        throw new Error(`${String(err)}\nagent output:\n${agent.output}`);
      });
    return under;
  }

  request(method: string, path: string, opts: RequestOptions = {}): Promise<HttpReply> {
    return send(this.httpPort, method, path, opts);
  }

  async probe(filters: readonly string[]): Promise<BusProbe> {
    const p = await BusProbe.connect(this.broker.port, filters);
    this.probes.push(p);
    return p;
  }

  async stop(): Promise<void> {
    await this.agent.stop('SIGKILL');
    await Promise.all(this.probes.splice(0).map((p) => p.close()));
    await this.broker.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
