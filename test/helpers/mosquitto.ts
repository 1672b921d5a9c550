import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free TCP port on 127.0.0.1, as the OS hands it out. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * A free port below the OS's ephemeral range (32768 up), for a daemon that binds it again after a restart:
 * an ephemeral port freed by the first run can meanwhile be taken by any outgoing connection on the machine.
 */
export async function stablePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.unref();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

export function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** A real mosquitto on 127.0.0.1:<free port>, started and stopped by the test. */
export class Mosquitto {
  private constructor(
    readonly port: number,
    private process: ChildProcess,
    private readonly dir: string,
    private readonly extraConfig: string,
  ) {}

  static async start(opts: { port?: number; extraConfig?: string } = {}): Promise<Mosquitto> {
    const dir = mkdtempSync(join(tmpdir(), 'tedge-mosquitto-'));
    chmodSync(dir, 0o777); // mosquitto started as root writes its log (and persistence) as user mosquitto
    const port = opts.port ?? (await freePort());
    const broker = new Mosquitto(port, Mosquitto.spawn(dir, port, opts.extraConfig ?? ''), dir, opts.extraConfig ?? '');
    await waitForPort(port, 10_000);
    return broker;
  }

  private static spawn(dir: string, port: number, extraConfig: string): ChildProcess {
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(
      conf,
      [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', `log_dest file ${join(dir, 'mosquitto.log')}`, extraConfig].join('\n'),
    );
    return spawn(existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto', ['-c', conf], { stdio: 'ignore' });
  }

  /** Its log (log_dest file): what a failing test shows of the broker's side. */
  get logPath(): string {
    return join(this.dir, 'mosquitto.log');
  }

  /** The broker's process id (for footprint measurements). */
  get pid(): number | undefined {
    return this.process.pid;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Kills and starts the broker again on the same port (retained messages are lost: persistence is off). */
  async restart(): Promise<void> {
    await this.kill();
    this.process = Mosquitto.spawn(this.dir, this.port, this.extraConfig);
    await waitForPort(this.port, 10_000);
  }

  /** Starts the broker again after `kill` (a broker that was down comes back). */
  async startAgain(): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) return;
    this.process = Mosquitto.spawn(this.dir, this.port, this.extraConfig);
    await waitForPort(this.port, 10_000);
  }

  /** SIGTERM and wait: the broker is down until `startAgain` (its files stay). */
  kill(): Promise<void> {
    const proc = this.process;
    if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
