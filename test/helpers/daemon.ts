import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/** Where the built entry points are (tests run from dist/test/...). */
export const BIN_DIR = join(__dirname, '..', '..', 'src', 'bin');

/**
 * The agent binds http.bind.port (8000 by default): tests running side by side would fight over it, so
 * an agent (or `tedge run all`) started without an explicit TEDGE_HTTP_BIND_PORT gets a random port
 * below the OS's ephemeral range (where freePort() and outgoing connections live).
 */
function agentHttpPort(bin: string, args: readonly string[], env: Record<string, string>): Record<string, string> {
  const runsAgent = bin === 'tedge-agent' || (bin === 'tedge' && args[0] === 'run');
  if (!runsAgent || env['TEDGE_HTTP_BIND_PORT'] !== undefined) return {};
  return { TEDGE_HTTP_BIND_PORT: String(20_000 + Math.floor(Math.random() * 12_000)) };
}

/** A daemon run as its own process, the way a user runs it; its output kept for assertions and failure messages. */
export class Daemon {
  output = '';

  private constructor(readonly process: ChildProcess) {
    process.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    process.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  static start(bin: 'tedge' | 'tedge-mapper' | 'tedge-agent', args: readonly string[], env: Record<string, string>): Daemon {
    const proc = spawn(process.execPath, [join(BIN_DIR, `${bin}.js`), ...args], {
      env: { ...process.env, ...agentHttpPort(bin, args, env), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Daemon(proc);
  }

  /** Resolves once the output matches; fails with the output after `timeoutMs`. */
  async waitForOutput(pattern: RegExp, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (Date.now() > deadline) throw new Error(`no output matching ${String(pattern)} within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  get exited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null;
  }

  /** Resolves with the exit code (or signal name) once the process has ended on its own; fails with the output after `timeoutMs`. */
  waitForExit(timeoutMs = 15_000): Promise<number | string> {
    if (this.exited) return Promise.resolve(this.process.exitCode ?? this.process.signalCode ?? 0);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the process did not exit within ${timeoutMs} ms\n${this.output}`)), timeoutMs);
      this.process.once('exit', (code, sig) => {
        clearTimeout(timer);
        resolve(code ?? sig ?? 0);
      });
    });
  }

  /** SIGTERM, then wait; resolves with the exit code (or signal name). */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
    if (this.exited) return Promise.resolve(this.process.exitCode ?? this.process.signalCode ?? 0);
    return new Promise((resolve) => {
      this.process.once('exit', (code, sig) => resolve(code ?? sig ?? 0));
      this.process.kill(signal);
    });
  }
}

/** Runs a CLI command to completion and returns its exit code and output. */
export function runCli(bin: 'tedge' | 'tedge-mapper' | 'tedge-agent', args: readonly string[], env: Record<string, string>, timeoutMs = 20_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [join(BIN_DIR, `${bin}.js`), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${bin} ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}
