import { type IncomingHttpHeaders, type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { AgentUnderTest } from './agent-under-test';
import type { BusProbe } from './bus-probe';
import type { Daemon } from './daemon';

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
    const onResponse = (res: IncomingMessage): void => {
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

/**
 * An agent under test started at once, with a client for its HTTP service (on a free port of its own):
 * the setup of the HTTP and file-transfer tests.
 */
export class HttpAgentUnderTest {
  private constructor(
    readonly device: AgentUnderTest,
    readonly agent: Daemon,
  ) {}

  /** `extraEnv` goes over the device's environment; it may be a function of the device directory (for files the test makes there first). */
  static async start(extraEnv: Record<string, string> | ((dir: string) => Record<string, string>) = {}): Promise<HttpAgentUnderTest> {
    const device = await AgentUnderTest.start('agent-http');
    Object.assign(device.env, typeof extraEnv === 'function' ? extraEnv(device.dir) : extraEnv);
    // The HTTP service starts before the agent reports `up`: `up` means it listens.
    try {
      return new HttpAgentUnderTest(device, await device.startAgent());
    } catch (err) {
      await device.close();
      throw err;
    }
  }

  get dir(): string {
    return this.device.dir;
  }

  /** The environment the agent runs with (for starting more processes on the same device). */
  get env(): Record<string, string> {
    return this.device.env;
  }

  get httpPort(): number {
    return Number(this.device.env['TEDGE_HTTP_BIND_PORT']);
  }

  /** `<data.path>/file-transfer` */
  get fileRoot(): string {
    return this.device.path('data', 'file-transfer');
  }

  request(method: string, path: string, opts: RequestOptions = {}): Promise<HttpReply> {
    return send(this.httpPort, method, path, opts);
  }

  probe(filters: readonly string[]): Promise<BusProbe> {
    return this.device.probe(filters);
  }

  stop(): Promise<void> {
    return this.device.close();
  }
}
