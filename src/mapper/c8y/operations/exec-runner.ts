import { spawn } from 'node:child_process';
import type { Bus } from '../../../bus/bus';
import { MqttBus } from '../../../bus/mqtt-bus';
import { type Message, message } from '../../../core/message';
import { errorMessage } from '../../../core/errors';
import type { Logger } from '../../../log/logger';
import type { Service } from '../../../runtime/service';
import type { LocalBrokerOptions } from '../../../runtime/local-broker';
import { type ExecOutcome, type ExecRequest, execEndLines, execStartLines } from './exec';
import { type ExecJournal, interruptedLine } from './exec-journal';

/** Output kept per stream: a SmartREST status cannot carry more anyway. */
const MAX_OUTPUT_BYTES = 64 * 1024;
/** After the timeout, SIGTERM; this long later, SIGKILL (thin-edge's forceful timeout is 60 s). */
const KILL_GRACE_MS = 5_000;

export interface ExecRunnerOptions {
  readonly broker: LocalBrokerOptions;
  /** Its own MQTT session: statuses go out while the converter's session is busy with input. */
  readonly clientId: string;
  readonly logger: Logger;
  readonly stop: AbortSignal;
  /** The commands running now, kept so that a crash of the mapper still ends their operations. */
  readonly journal?: ExecJournal;
}

/** The reason an operation fails when the mapper stops while its command runs. */
export const STOPPED_REASON = 'the mapper stopped while the command was running';

/** Runs one argv (no shell), bounded output, killed after `timeoutMs` or when `signal` aborts. */
export function runCommand(argv: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<ExecOutcome> {
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
    let stopped = false;
    const terminate = (): void => {
      child.kill('SIGTERM');
      kill ??= setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      terminate();
    }, timeoutMs);
    const onAbort = (): void => {
      stopped = true;
      terminate();
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve({ error: `cannot run ${cmd}: ${errorMessage(err)}` });
    });
    child.on('close', (code, killedBy) => {
      clearTimeout(timer);
      clearTimeout(kill);
      signal?.removeEventListener('abort', onAbort);
      if (stopped) resolve({ error: STOPPED_REASON });
      else if (timedOut) resolve({ error: `${cmd} timed out after ${timeoutMs / 1000} s and was killed` });
      else if (code === null) resolve({ error: `${cmd} was killed by ${killedBy ?? 'a signal'}` });
      else resolve({ exitCode: code, stdout, stderr });
    });
  });
}

/**
 * Runs the commands of custom operations (`[exec] command`) the converter hands over, and publishes their
 * statuses (504 before, 506/505 after) itself: a command may run for an hour, the converter must not wait.
 * Requests that arrive before the connection are queued. A stop kills the running commands and fails their
 * operations; those a crash left running are failed at the next start (from the journal).
 */
export class ExecRunner implements Service {
  readonly name = 'c8y-custom-operations';
  private bus: Bus | undefined;
  private readonly queued: ExecRequest[] = [];
  private readonly queuedMessages: Message[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(private readonly opts: ExecRunnerOptions) {}

  submit(req: ExecRequest): void {
    if (this.bus === undefined) this.queued.push(req);
    else this.track(this.run(this.bus, req));
  }

  async start(): Promise<void> {
    const { broker, clientId, stop } = this.opts;
    this.bus = await MqttBus.connect({ ...broker, clientId, cleanSession: true, signal: stop });
    const bus = this.bus;
    await this.failLeftOver(bus);
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
    // A command's result would be lost with the connection: killed now, its operation failed while the bus is up.
    this.stopping.abort();
    await Promise.race([Promise.allSettled([...this.running]), new Promise((r) => setTimeout(r, KILL_GRACE_MS + 1_000).unref())]);
    await this.bus?.close();
    this.bus = undefined;
  }

  private track(p: Promise<void>): void {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  /** Operations whose commands a previous run left running (it crashed): failed, as their results are lost. */
  private async failLeftOver(bus: Bus): Promise<void> {
    const journal = this.opts.journal;
    if (!journal) return;
    const { entries, problem } = journal.leftOver();
    if (problem !== undefined) this.opts.logger.warn({ problem }, 'the journal of running custom operations is unreadable');
    try {
      for (const e of entries) await bus.publish(message(e.smartrestTopic, interruptedLine(e), { qos: 1 }));
      for (const e of entries) this.opts.logger.warn({ operation: e.name }, 'a custom operation left running by the previous run is failed');
      journal.clear();
    } catch (err) {
      this.opts.logger.error({ err }, 'custom operations left running by the previous run not reported; kept for the next start');
    }
  }

  private async run(bus: Bus, req: ExecRequest): Promise<void> {
    const publish = (line: string): Promise<void> => bus.publish(message(req.smartrestTopic, line, { qos: 1 }));
    try {
      const key = this.opts.journal?.add(req);
      for (const line of execStartLines(req)) await publish(line);
      this.opts.logger.info({ operation: req.name, argv: req.argv }, 'running a custom operation');
      const outcome = await runCommand(req.argv, req.timeoutMs, this.stopping.signal);
      for (const line of execEndLines(req, outcome)) await publish(line);
      this.opts.journal?.remove(key);
    } catch (err) {
      this.opts.logger.error({ err, operation: req.name }, 'custom operation status not published');
    }
  }
}
