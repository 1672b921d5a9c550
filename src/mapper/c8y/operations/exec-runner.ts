import { spawn } from 'node:child_process';
import type { Bus } from '../../../bus/bus';
import { MqttBus } from '../../../bus/mqtt-bus';
import { type Message, message } from '../../../core/message';
import { errorMessage } from '../../../core/errors';
import type { Logger } from '../../../log/logger';
import type { Service } from '../../../runtime/service';
import { type ExecOutcome, type ExecRequest, execEndLines, execStartLines } from './exec';

/** Output kept per stream: a SmartREST status cannot carry more anyway. */
const MAX_OUTPUT_BYTES = 64 * 1024;
/** After the timeout, SIGTERM; this long later, SIGKILL (thin-edge's forceful timeout is 60 s). */
const KILL_GRACE_MS = 5_000;

export interface ExecRunnerOptions {
  readonly host: string;
  readonly port: number;
  /** Its own MQTT session: statuses go out while the converter's session is busy with input. */
  readonly clientId: string;
  readonly logger: Logger;
  readonly stop: AbortSignal;
}

/** Runs one argv (no shell), bounded output, killed after `timeoutMs`. */
export function runCommand(argv: readonly string[], timeoutMs: number): Promise<ExecOutcome> {
  return new Promise((resolve) => {
    const [cmd, ...args] = argv;
    if (cmd === undefined) return resolve({ error: 'empty command' });
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], shell: false });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const keep = (acc: string, chunk: Buffer): string => (acc.length >= MAX_OUTPUT_BYTES ? acc : acc + chunk.toString('utf8'));
    child.stdout.on('data', (c: Buffer) => (stdout = keep(stdout, c)));
    child.stderr.on('data', (c: Buffer) => (stderr = keep(stderr, c)));
    let kill: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      kill = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ error: `cannot run ${cmd}: ${errorMessage(err)}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(kill);
      if (timedOut) resolve({ error: `${cmd} timed out after ${timeoutMs / 1000} s and was killed` });
      else if (code === null) resolve({ error: `${cmd} was killed by ${signal ?? 'a signal'}` });
      else resolve({ exitCode: code, stdout, stderr });
    });
  });
}

/**
 * Runs the commands of custom operations (`[exec] command`) the converter hands over, and publishes their
 * statuses (504 before, 506/505 after) itself: a command may run for an hour, the converter must not wait.
 * Requests that arrive before the connection are queued.
 */
export class ExecRunner implements Service {
  readonly name = 'c8y-custom-operations';
  private bus: Bus | undefined;
  private readonly queued: ExecRequest[] = [];
  private readonly queuedMessages: Message[] = [];
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly opts: ExecRunnerOptions) {}

  submit(req: ExecRequest): void {
    if (this.bus === undefined) this.queued.push(req);
    else this.track(this.run(this.bus, req));
  }

  async start(): Promise<void> {
    const { host, port, clientId, stop } = this.opts;
    this.bus = await MqttBus.connect({ host, port, clientId, cleanSession: true, signal: stop });
    const bus = this.bus;
    for (const req of this.queued.splice(0)) this.track(this.run(bus, req));
    this.publish(this.queuedMessages.splice(0));
  }

  /** Messages of other operation work done beside the converter (prefetched commands), in order, on this connection. */
  publish(msgs: readonly Message[]): void {
    const bus = this.bus;
    if (bus === undefined) {
      this.queuedMessages.push(...msgs);
      return;
    }
    this.track(
      (async (): Promise<void> => {
        for (const m of msgs) await bus.publish(m);
      })().catch((err: unknown) => this.opts.logger.error({ err }, 'operation message not published')),
    );
  }

  async stop(): Promise<void> {
    // Running commands finish on their own; their statuses are lost with the connection (Cumulocity keeps EXECUTING).
    await this.bus?.close();
    this.bus = undefined;
  }

  private track(p: Promise<void>): void {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  private async run(bus: Bus, req: ExecRequest): Promise<void> {
    const publish = (line: string): Promise<void> => bus.publish(message(req.smartrestTopic, line, { qos: 1 }));
    try {
      for (const line of execStartLines(req)) await publish(line);
      this.opts.logger.info({ operation: req.name, argv: req.argv }, 'running a custom operation');
      const outcome = await runCommand(req.argv, req.timeoutMs);
      for (const line of execEndLines(req, outcome)) await publish(line);
    } catch (err) {
      this.opts.logger.error({ err, operation: req.name }, 'custom operation status not published');
    }
  }
}
