import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { filtersMatcher } from '../bus/topic-filter';
import type { Converter } from '../core/converter';
import { ConversionError, TedgeError, errorMessage } from '../core/errors';
import { type Message, message } from '../core/message';
import type { BuiltinServices } from './builtins';
import { FlowChain } from './flow-chain';
import type { Logger } from '../log/logger';
import { PathsWatch } from '../runtime/paths-watch';
import { type LoadedFlow, flowFiles, loadFlow, treeFingerprint } from './flow-loader';
import { KvStore } from './kv-store';
import { mqttFilters } from './model';

interface ConvertingFlow {
  readonly path: string;
  readonly flow: LoadedFlow;
  readonly chain: FlowChain;
  readonly accepts: (topic: string) => boolean;
  /** context.mapper changes the chain has not seen yet (it holds its own copy). */
  pending: [string, string | null][];
}

/**
 * The flows of a built-in mapper as its converter, for MapperRuntime: builtin steps only (they run
 * synchronously in the mapper's thread, so the runtime's acknowledgement and error handling stay as
 * they are). A step's failure is the input's ConversionError, reported by the runtime on te/errors.
 */
export class FlowsConverter implements Converter {
  /** The topics of the flows loaded first: the runtime subscribes once, so a reload cannot widen them. */
  readonly filters: readonly string[];
  private flows: ConvertingFlow[];
  /** context.mapper as every flow last saw it, to seed the chains a reload makes. */
  private readonly context = new KvStore();

  constructor(
    private readonly flowsDir: string,
    private readonly errorsTopic: string,
    private readonly services: BuiltinServices = {},
  ) {
    this.flows = flowFiles(flowsDir).map((path) => this.load(path, undefined));
    this.filters = [...new Set(this.flows.flatMap((f) => mqttFilters(f.flow.definition)))];
  }

  /**
   * Loads the directory again (a user's edit while the mapper runs): a flow that no longer loads keeps
   * its previous version and is returned as `<file>: <error>`; an unchanged flow keeps its state, and
   * context.mapper carries over to the new ones.
   */
  reload(): string[] {
    const previous = new Map(this.flows.map((f) => [f.path, f]));
    const errors: string[] = [];
    this.flows = flowFiles(this.flowsDir).flatMap((path) => {
      try {
        return [this.load(path, previous.get(path))];
      } catch (err) {
        errors.push(`${path}: ${errorMessage(err)}`);
        const kept = previous.get(path);
        return kept === undefined ? [] : [kept];
      }
    });
    this.routes = new Map();
    return errors;
  }

  private load(path: string, previous: ConvertingFlow | undefined): ConvertingFlow {
    const flow = loadFlow(this.flowsDir, path, {}, this.errorsTopic);
    if (previous !== undefined && previous.flow.digest === flow.digest) return previous;
    const script = flow.definition.steps.find((s) => s.kind === 'script');
    if (script !== undefined) throw new TedgeError('CONFIG_FILE', `${path}: a built-in mapper runs builtin steps only for now; run ${script.path} in tedge-mapper local`);
    const mapperStore = this.context.keys().map((k): [string, string] => [k, this.context.get(k) as string]);
    const chain = new FlowChain({ flow: flow.definition, scripts: {}, callTimeoutMs: 1000, mapperStore, scriptStores: {}, now: Date.now() }, this.services);
    return { path, flow, chain, accepts: filtersMatcher(mqttFilters(flow.definition)), pending: [] };
  }

  /** Sets a `context.mapper` key for every flow (the c8y mapper's entities, as thin-edge's steps read them). */
  setContext(key: string, json: string | null): void {
    this.context.set(key, json);
    for (const f of this.flows) f.pending.push([key, json]);
  }

  /** The flows each topic goes to, remembered (bounded): matching every flow's filters costs more than its steps. */
  private routes = new Map<string, ConvertingFlow[]>();

  private flowsFor(topic: string): ConvertingFlow[] {
    let flows = this.routes.get(topic);
    if (flows === undefined) {
      flows = this.flows.filter((f) => f.accepts(topic));
      if (this.routes.size >= 10_000) this.routes.clear();
      this.routes.set(topic, flows);
    }
    return flows;
  }

  convert(msg: Message, now: Date): Message[] {
    const out: Message[] = [];
    for (const f of this.flowsFor(msg.topic)) {
      const updates = f.pending;
      f.pending = [];
      const reply = f.chain.run([{ topic: msg.topic, payload: msg.payload, time: now.getTime() }], updates);
      // What a step put in context.mapper (update-context) is seen by the other flows too.
      for (const [key, json] of reply.mapperChanges) {
        this.context.set(key, json);
        for (const other of this.flows) if (other !== f) other.pending.push([key, json]);
      }
      const failure = reply.failures[0];
      if (failure !== undefined) throw new ConversionError(failure.error);
      const output = f.flow.definition.output;
      for (const o of reply.outputs) out.push(message(output.kind === 'mqtt' && output.topic !== undefined ? output.topic : o.topic, o.payload, { qos: 1 }));
    }
    return out;
  }
}

/** Reloads the converter's flows when a file of `flowsDir` changes, until `stop`; the outcome goes to the log. */
export function reloadOnChange(converter: FlowsConverter, flowsDir: string, logger: Logger, stop: AbortSignal): void {
  const watch = new PathsWatch(
    [flowsDir],
    () => {
      const errors = converter.reload();
      for (const error of errors) logger.error({ flowsDir }, `flow not reloaded, its previous version keeps running: ${error}`);
      logger.info({ flowsDir, failed: errors.length }, 'flows reloaded');
    },
    2000,
    () => treeFingerprint(flowsDir),
  );
  watch.start();
  stop.addEventListener('abort', () => watch.stop(), { once: true });
}

/**
 * Writes the built-in flow and its `.toml.template` witness (thin-edge's scheme): the flow is written
 * when missing or still equal to the previous template (not edited by the user); the template always.
 */
export function installBuiltinFlow(flowsDir: string, name: string, toml: string): void {
  const flow = join(flowsDir, `${name}.toml`);
  const template = `${flow}.template`;
  const edited = existsSync(flow) && existsSync(template) && readText(flow) !== readText(template);
  const disabled = existsSync(`${flow}.disabled`) || (!existsSync(flow) && existsSync(template));
  if (!edited && !disabled) writeIfChanged(flow, toml);
  writeIfChanged(template, toml);
}

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

/** Unchanged files are not rewritten: a read-only directory that already holds them works, and no reload is triggered. */
function writeIfChanged(path: string, text: string): void {
  if (!existsSync(path) || readText(path) !== text) writeFileSync(path, text);
}
