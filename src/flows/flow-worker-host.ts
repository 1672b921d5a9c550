import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type FlowMessage, type StepFailure, packMessages } from './flow-message';
import type { WorkerInit, WorkerReady, WorkerReply, WorkerRequest } from './worker-protocol';

export interface IsolationLimits {
  /** CPU time of one step call (vm timeout in the worker). */
  readonly callTimeoutMs: number;
  /** The flow's JavaScript heap (worker resourceLimits.maxOldGenerationSizeMb). */
  readonly heapMb: number;
  readonly stackMb: number;
}

export const DEFAULT_LIMITS: IsolationLimits = { callTimeoutMs: 1000, heapMb: 16, stackMb: 1 };

/**
 * The nursery of a flow's heap, beside the old-generation limit that bounds what a step can keep: with a
 * small nursery every batch's short-lived messages meant a scavenge (measured: GC took most of the worker's time).
 */
const YOUNG_GENERATION_MB = 8;

/** Largest batch sent to the worker at once: big enough to amortise the thread hop, small enough to stay responsive. */
const MAX_BATCH = 1000;
const MAX_IN_FLIGHT = 2;

/** A request waiting for the worker; messages stay unpacked until it is sent, so later arrivals can join it. */
interface Job {
  readonly kind: 'messages' | 'tick' | 'script-stores';
  readonly messages: FlowMessage[];
  readonly now: number;
  readonly final: boolean;
  readonly reply: Promise<WorkerReply>;
  /** The same, for the many submitters of one batch (one promise per batch, not per message). */
  readonly done: Promise<void>;
  resolve(reply: WorkerReply): void;
}

function job(kind: Job['kind'], messages: FlowMessage[] = [], now = 0, final = false): Job {
  let resolve: (r: WorkerReply) => void = () => {};
  const reply = new Promise<WorkerReply>((r) => (resolve = r));
  return { kind, messages, now, final, reply, done: reply.then(() => {}), resolve: (r) => resolve(r) };
}

/**
 * Why a worker per flow around the vm realms (measured with `npm run bench:flows`, 2 shared cores): a vm
 * realm in the mapper's thread runs a trivial step at 0.55–0.87 M msg/s but has no memory limit (a memory bomb
 * ends the mapper) and is no security boundary; a worker has resourceLimits and a thread to end, but one
 * round trip per message gives 1.4–3.3 k msg/s. Hence both, with batches: 192–401 k msg/s through the engine
 * at load 7–8 (README, Flows). Batches of 1000: with 2000 the worker spent half its time in GC.
 *
 * The mapper's side of one flow's worker thread: batches what arrives while the worker is busy into one
 * request, keeps two requests in flight, and survives the worker's death. A worker that dies (memory
 * limit, a call that escaped its timeout and tripped the watchdog) is started again; the messages of the
 * batch it died on are retried one by one, so only the message that kills it is reported.
 */
export class FlowWorker {
  private worker: Worker | undefined;
  private readonly queue: Job[] = [];
  /** Sent and not answered, oldest first: the worker answers in order. */
  private readonly inFlight: Job[] = [];
  private nextId = 1;
  private watchdog: NodeJS.Timeout | undefined;
  private closed = false;
  private detach: () => void = () => {};
  hasInterval = false;
  /** context.mapper changes made by other flows, sent with the next request. */
  private mapperUpdates: [string, string | null][] = [];

  constructor(
    private readonly init: () => WorkerInit,
    private readonly limits: IsolationLimits,
    private readonly onDeath: (reason: string) => void,
    /** Every reply (outputs, failures, logs, context changes) is routed here once, in order. */
    private readonly onReplyRouted: (reply: WorkerReply) => void,
  ) {}

  /** Starts the thread and runs onStartup; rejects with the load error of a flow that cannot run. */
  async start(): Promise<WorkerReply> {
    const init = this.init();
    const source = workerSource();
    const worker = new Worker(source.code ?? source.file, {
      eval: source.code !== undefined,
      workerData: init,
      resourceLimits: { maxOldGenerationSizeMb: this.limits.heapMb, maxYoungGenerationSizeMb: YOUNG_GENERATION_MB, stackSizeMb: this.limits.stackMb },
      // The step's thread gets no environment and cannot write to the mapper's stdio.
      env: {},
      stdout: true,
      stderr: true,
      stdin: false,
    });
    let settle: (r: WorkerReady) => void = () => {};
    const onReady = (m: WorkerReady): void => settle(m);
    const onLoadError = (err: Error): void => settle({ ready: false, error: describeDeath(err) });
    const onLoadExit = (code: number): void => settle({ ready: false, error: `the flow's worker exited (${code}) while loading` });
    const ready = await new Promise<WorkerReady>((resolve) => {
      settle = resolve;
      worker.on('message', onReady).on('error', onLoadError).on('exit', onLoadExit);
    });
    worker.off('message', onReady).off('error', onLoadError).off('exit', onLoadExit);
    if (!ready.ready) {
      void worker.terminate();
      throw new Error(ready.error);
    }
    if (this.closed) {
      // Stopped while this (re)start was under way: the thread must not outlive its flow.
      void worker.terminate();
      return ready.startup;
    }
    this.hasInterval = ready.hasInterval;
    this.worker = worker;
    this.detach = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (reply: WorkerReply): void => this.onReply(reply);
    const onError = (err: Error): void => this.onCrash(describeDeath(err));
    const onExit = (code: number): void => this.onCrash(`the flow's worker exited (${code})`);
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.unref();
    return ready.startup;
  }

  shareMapperChanges(changes: readonly [string, string | null][]): void {
    this.mapperUpdates.push(...changes);
  }

  /** One message: what the engine submits for each message the mapper receives. See `messages`. */
  message(m: FlowMessage): Promise<void> {
    const last = this.queue[this.queue.length - 1];
    if (last !== undefined && last.kind === 'messages' && last.messages.length < MAX_BATCH) {
      last.messages.push(m);
      return last.done;
    }
    const j = job('messages', [m]);
    this.enqueue(j);
    return j.done;
  }

  /**
   * Messages in arrival order; consecutive submissions made while the worker is busy share one request.
   * Resolves once the messages went through the flow and their reply was routed.
   */
  messages(messages: readonly FlowMessage[]): Promise<void> {
    const last = this.queue[this.queue.length - 1];
    if (last !== undefined && last.kind === 'messages' && last.messages.length + messages.length <= MAX_BATCH) {
      for (const m of messages) last.messages.push(m);
      return last.done;
    }
    const j = job('messages', [...messages]);
    this.enqueue(j);
    return j.done;
  }

  tick(now: number, final = false): Promise<WorkerReply> {
    return this.enqueue(job('tick', [], now, final));
  }

  scriptStores(): Promise<WorkerReply> {
    return this.enqueue(job('script-stores'));
  }

  async stop(): Promise<void> {
    this.closed = true;
    if (this.watchdog) clearTimeout(this.watchdog);
    const w = this.worker;
    this.worker = undefined;
    if (w) {
      this.detach();
      await w.terminate();
    }
    for (const p of [...this.inFlight.splice(0), ...this.queue.splice(0)]) p.resolve(EMPTY(0));
  }

  private enqueue(j: Job): Promise<WorkerReply> {
    this.queue.push(j);
    this.pump();
    return j.reply;
  }

  private pump(): void {
    // Two requests in flight: the mapper packs and routes one batch while the worker runs the other.
    while (this.inFlight.length < MAX_IN_FLIGHT && this.worker !== undefined && !this.closed) {
      const next = this.queue.shift();
      if (next === undefined) return;
      const id = this.nextId++;
      const mapperUpdates = this.mapperUpdates;
      this.mapperUpdates = [];
      this.inFlight.push(next);
      if (this.inFlight.length === 1) this.armWatchdog();
      if (next.kind === 'messages') {
        const packed = packMessages(next.messages);
        this.worker.postMessage({ id, kind: 'messages', messages: packed, mapperUpdates } satisfies WorkerRequest, [packed.bytes.buffer as ArrayBuffer]);
      } else if (next.kind === 'tick') this.worker.postMessage({ id, kind: 'tick', now: next.now, final: next.final, mapperUpdates } satisfies WorkerRequest);
      else this.worker.postMessage({ id, kind: 'script-stores' } satisfies WorkerRequest);
    }
  }

  /** The last line behind the vm timeout: the oldest request not answered in time (it escaped the timeout) ends the thread. */
  private armWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    const head = this.inFlight[0];
    if (head === undefined) return;
    const ms = this.limits.callTimeoutMs * 2 * Math.max(1, Math.ceil(head.messages.length / 100)) + 2000;
    this.watchdog = setTimeout(() => this.kill('a step did not return within its time limit'), ms);
  }

  private onReply(reply: WorkerReply): void {
    const done = this.inFlight.shift();
    this.armWatchdog();
    this.onReplyRouted(reply);
    done?.resolve(reply);
    this.pump();
  }

  private kill(reason: string): void {
    const w = this.worker;
    if (w === undefined) return;
    this.detach();
    void w.terminate();
    this.onCrash(reason);
  }

  private onCrash(reason: string): void {
    if (this.closed) return;
    if (this.watchdog) clearTimeout(this.watchdog);
    this.detach();
    this.worker = undefined;
    this.onDeath(reason);
    // The worker died on the oldest request; those sent after it go again as they were.
    const [failed, ...innocent] = this.inFlight.splice(0);
    this.queue.unshift(...innocent);
    if (failed !== undefined) {
      if (failed.kind === 'messages' && failed.messages.length > 1) {
        // Retried one by one after the restart: only the message the worker dies on is lost.
        const singles = failed.messages.map((m) => job('messages', [m]));
        this.queue.unshift(...singles);
        void Promise.all(singles.map((j) => j.reply)).then((replies) => failed.resolve(replies[replies.length - 1] ?? EMPTY(0)));
      } else {
        const topic = failed.kind === 'messages' ? (failed.messages[0]?.topic ?? '') : failed.kind;
        const reply: WorkerReply = { ...EMPTY(0), failures: [{ step: 'flow', topic, error: reason } satisfies StepFailure] };
        this.onReplyRouted(reply);
        failed.resolve(reply);
      }
    }
    void this.start().then(
      () => this.pump(),
      (err: unknown) => {
        this.onDeath(`the flow could not be started again: ${String((err as Error).message)}`);
        for (const p of this.queue.splice(0)) {
          const reply: WorkerReply = { ...EMPTY(0), failures: [{ step: 'flow', topic: '', error: 'the flow is not running' }] };
          this.onReplyRouted(reply);
          p.resolve(reply);
        }
      },
    );
  }
}

/** Set by the single executable's entry (scripts/package.sh): the worker's bundle, as text. */
type EmbeddingGlobal = { __TEDGE_FLOW_WORKER__?: string };

/**
 * The worker's code: in the single executable, its bundle embedded in the main one (run with eval: a SEA
 * has no file for it; one way for every architecture, as armhf's node has no SEA assets); elsewhere
 * `flow-worker.js` beside this module (dist/, the .deb's JavaScript tree).
 */
function workerSource(): { file: string; code?: string } {
  const file = join(__dirname, 'flow-worker.js');
  const code = (globalThis as EmbeddingGlobal).__TEDGE_FLOW_WORKER__;
  return code === undefined ? { file } : { file, code };
}

function EMPTY(id: number): WorkerReply {
  return { id, outputs: packMessages([]), failures: [], logs: [], mapperChanges: [] };
}

function describeDeath(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') return 'a step exhausted the memory limit of its flow';
  return `the flow's worker failed: ${String((err as Error).message)}`;
}
