import { randomBytes, randomUUID } from 'node:crypto';
import vm from 'node:vm';
import type { QoS } from '../core/message';
import type { FlowMessage, StepFailure } from './flow-message';
import type { StepStores } from './kv-store';
import { SANDBOX_BOOTSTRAP } from './sandbox-bootstrap';
import type { Step, StepOutcome } from './step';

export interface SandboxLimits {
  /** CPU time one call may take (vm timeout); a longer call is cut and reported. */
  readonly callTimeoutMs: number;
}

/** One output as the runner records it: plain own fields of the sandbox realm. */
interface OutputRecord {
  topic: string;
  payload: string | Uint8Array;
  time: number;
  qos: number;
  retain: boolean;
}

/**
 * The runner's record of one call (sandbox-bootstrap.ts's collect): null for no message, one record,
 * several, an error's text, or PENDING while its promise has not settled. The host tells them apart
 * with typeof and Array.isArray only, and walks arrays by index: nothing it does runs step code
 * (an iterator or a getter of the step's realm would run outside the call's time limit).
 */
type CallResult = null | OutputRecord | OutputRecord[] | string | typeof PENDING;
const PENDING = 0;

interface Control {
  module: unknown;
  kind: 'message' | 'interval' | 'startup';
  batch: readonly FlowMessage[] | null;
  time: number;
  budgetMs: number;
  results: (CallResult | undefined)[] | null;
  next: number;
}

const bootstrap = new vm.Script(SANDBOX_BOOTSTRAP, { filename: 'tedge-flows-sandbox.js' });
const runCall = new vm.Script('__tedge_step()', { filename: 'tedge-flows-call.js' });
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A JavaScript step in its own realm: no require, no process, no timers, no fetch; code generation from
 * strings (eval, new Function) refused. Each call is bounded by a vm timeout; the worker around the flow
 * bounds memory (resourceLimits) and is the last line if a call escapes the timeout.
 */
export class ScriptStep implements Step {
  readonly hasInterval: boolean;
  private readonly context: vm.Context;
  private readonly ctl: Control;

  constructor(
    readonly label: string,
    code: string,
    path: string,
    config: unknown,
    readonly intervalMs: number,
    stores: StepStores,
    private readonly limits: SandboxLimits,
    log: (line: string) => void,
  ) {
    this.context = vm.createContext(Object.create(null), { codeGeneration: { strings: false, wasm: false }, microtaskMode: 'afterEvaluate' });
    // The bridge never throws (the sandbox would get a worker Error) and returns only primitives or bytes it copies.
    const bridge = {
      config: JSON.stringify(config ?? {}),
      encode: (s: string) => encoder.encode(s),
      decode: (b: Uint8Array) => {
        try {
          return decoder.decode(b);
        } catch {
          return '';
        }
      },
      uuid: () => randomUUID(),
      random: (n: number) => randomBytes(Math.min(Math.max(0, n | 0), 65536)),
      log: (line: string) => log(`${label}: ${String(line)}`),
      kv: (scope: string, op: string, key: string, json: string | null) => {
        const store = scope === 'mapper' ? stores.mapper : scope === 'flow' ? stores.flow : stores.script;
        if (op === 'keys') return JSON.stringify(store.keys());
        if (op === 'get') return store.get(key);
        store.set(key, json);
        return undefined;
      },
    };
    const init = bootstrap.runInContext(this.context) as (b: typeof bridge) => Control;
    this.ctl = init(bridge);
    this.ctl.module = new vm.Script(code, { filename: path }).runInContext(this.context, { timeout: limits.callTimeoutMs });
    const mod = this.ctl.module as { onInterval?: unknown };
    this.hasInterval = typeof mod.onInterval === 'function';
  }

  onStartup(now: number): StepOutcome {
    return this.callOnce('startup', now);
  }

  onInterval(now: number): StepOutcome {
    return this.hasInterval ? this.callOnce('interval', now) : { outputs: [], failures: [] };
  }

  onMessages(batch: readonly FlowMessage[]): StepOutcome {
    const outcome: StepOutcome = { outputs: [], failures: [] };
    const ctl = this.ctl;
    ctl.kind = 'message';
    ctl.batch = batch;
    ctl.results = null;
    ctl.next = 0;
    ctl.budgetMs = this.limits.callTimeoutMs / 2;
    while (ctl.next < batch.length) {
      const from = ctl.next;
      const timedOut = this.enter();
      const results = (ctl.results ?? []) as (CallResult | undefined)[];
      for (let i = from; i < ctl.next; i++) this.take(results[i], batch[i]?.topic ?? '', outcome, timedOut && i === ctl.next - 1);
    }
    ctl.batch = null;
    ctl.results = null;
    return outcome;
  }

  private callOnce(kind: 'startup' | 'interval', now: number): StepOutcome {
    const outcome: StepOutcome = { outputs: [], failures: [] };
    const ctl = this.ctl;
    Object.assign(ctl, { kind, time: now, batch: null, results: null, next: 0, budgetMs: this.limits.callTimeoutMs });
    const timedOut = this.enter();
    this.take(ctl.results?.[0], kind === 'startup' ? 'onStartup' : 'onInterval', outcome, timedOut);
    ctl.results = null;
    return outcome;
  }

  /** Runs the sandbox's runner under the timeout; true when the call was cut. */
  private enter(): boolean {
    try {
      runCall.runInContext(this.context, { timeout: this.limits.callTimeoutMs });
      return false;
    } catch (err) {
      // The only error the runner lets out is the timeout (or a stack overflow in the runner itself).
      if (this.ctl.next === 0) this.ctl.next = 1;
      if (this.ctl.results === null) this.ctl.results = [];
      this.ctl.results[this.ctl.next - 1] = (err as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT' ? `the step took more than ${this.limits.callTimeoutMs} ms: cut` : `the step failed: ${String((err as Error).message)}`;
      return true;
    }
  }

  private take(result: CallResult | undefined, topic: string, into: StepOutcome, timedOut: boolean): void {
    const fail = (error: string): void => {
      into.failures.push({ step: this.label, topic, error } satisfies StepFailure);
    };
    if (result === undefined) return fail(timedOut ? `the step took more than ${this.limits.callTimeoutMs} ms: cut` : 'the step returned nothing the runner could read');
    if (result === null) return;
    if (result === PENDING) return fail('the promise returned by the step did not settle');
    if (typeof result === 'string') return fail(result);
    if (!Array.isArray(result)) return void into.outputs.push(hostMessage(result));
    for (let i = 0; i < result.length; i++) into.outputs.push(hostMessage(result[i] as OutputRecord));
  }
}

/** An output as the worker's own objects: the payload copied out of the sandbox (the Uint8Array constructor reads no property of the step's realm). */
function hostMessage(o: OutputRecord): FlowMessage {
  const payload = typeof o.payload === 'string' ? encoder.encode(o.payload) : new Uint8Array(o.payload);
  const msg: { topic: string; payload: Uint8Array; time: number; qos?: QoS; retain?: boolean } = { topic: o.topic, payload, time: typeof o.time === 'number' ? o.time : Number.NaN };
  if (o.qos === 0 || o.qos === 1 || o.qos === 2) msg.qos = o.qos;
  if (o.retain) msg.retain = true;
  return msg;
}
