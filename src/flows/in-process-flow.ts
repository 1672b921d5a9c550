import { FlowChain, type InThreadReply } from './flow-chain';
import type { FlowMessage } from './flow-message';
import type { WorkerInit, WorkerReply } from './worker-protocol';

/**
 * A flow of builtin steps only, run in the mapper's own thread: builtins are the mapper's code, so
 * they need no sandbox, and they are spared the thread hop. Same chain, same replies as a FlowWorker.
 */
export class InProcessFlow {
  private chain: FlowChain | undefined;
  private mapperUpdates: [string, string | null][] = [];
  private nextId = 1;
  hasInterval = false;

  constructor(
    private readonly init: () => WorkerInit,
    private readonly onReplyRouted: (reply: WorkerReply | InThreadReply) => void,
  ) {}

  async start(): Promise<WorkerReply> {
    const init = this.init();
    this.chain = new FlowChain(init);
    this.hasInterval = this.chain.hasInterval;
    return this.chain.startup(init.now, 0);
  }

  shareMapperChanges(changes: readonly [string, string | null][]): void {
    this.mapperUpdates.push(...changes);
  }

  message(m: FlowMessage): Promise<void> {
    return this.messages([m]);
  }

  messages(messages: readonly FlowMessage[]): Promise<void> {
    this.onReplyRouted(this.started().messagesInThread(this.nextId++, messages, this.takeUpdates()));
    return Promise.resolve();
  }

  tick(now: number, final = false): Promise<WorkerReply> {
    return Promise.resolve(this.route(this.started().tick(this.nextId++, now, final, this.takeUpdates())));
  }

  scriptStores(): Promise<WorkerReply> {
    return Promise.resolve(this.started().scriptStores(this.nextId++));
  }

  async stop(): Promise<void> {
    this.chain = undefined;
  }

  private started(): FlowChain {
    if (this.chain === undefined) throw new Error('flow not started');
    return this.chain;
  }

  private takeUpdates(): [string, string | null][] {
    const updates = this.mapperUpdates;
    this.mapperUpdates = [];
    return updates;
  }

  private route(reply: WorkerReply): WorkerReply {
    this.onReplyRouted(reply);
    return reply;
  }
}
