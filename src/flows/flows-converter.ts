import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { filtersMatcher } from '../bus/topic-filter';
import type { Converter } from '../core/converter';
import { ConversionError, TedgeError } from '../core/errors';
import { type Message, message } from '../core/message';
import type { BuiltinServices } from './builtins';
import { FlowChain } from './flow-chain';
import { type LoadedFlow, flowFiles, loadFlow } from './flow-loader';
import { mqttFilters } from './model';

interface ConvertingFlow {
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
  readonly filters: readonly string[];
  private readonly flows: ConvertingFlow[];

  constructor(flowsDir: string, errorsTopic: string, services: BuiltinServices = {}) {
    this.flows = flowFiles(flowsDir).map((path) => {
      const flow = loadFlow(flowsDir, path, {}, errorsTopic);
      const script = flow.definition.steps.find((s) => s.kind === 'script');
      if (script !== undefined) throw new TedgeError('CONFIG_FILE', `${path}: a built-in mapper runs builtin steps only for now; run ${script.path} in tedge-mapper local`);
      const chain = new FlowChain({ flow: flow.definition, scripts: {}, callTimeoutMs: 1000, mapperStore: [], scriptStores: {}, now: Date.now() }, services);
      return { flow, chain, accepts: filtersMatcher(mqttFilters(flow.definition)), pending: [] };
    });
    this.filters = [...new Set(this.flows.flatMap((f) => mqttFilters(f.flow.definition)))];
  }

  /** Sets a `context.mapper` key for every flow (the c8y mapper's entities, as thin-edge's steps read them). */
  setContext(key: string, json: string | null): void {
    for (const f of this.flows) f.pending.push([key, json]);
  }

  convert(msg: Message, now: Date): Message[] {
    const out: Message[] = [];
    for (const f of this.flows) {
      if (!f.accepts(msg.topic)) continue;
      const updates = f.pending;
      f.pending = [];
      const reply = f.chain.messages(0, [{ topic: msg.topic, payload: msg.payload, time: now.getTime() }], updates);
      // What a step put in context.mapper (update-context) is seen by the other flows too.
      for (const change of reply.mapperChanges) for (const other of this.flows) if (other !== f) other.pending.push(change);
      const failure = reply.failures[0];
      if (failure !== undefined) throw new ConversionError(failure.error);
      const output = f.flow.definition.output;
      const end = reply.outputs.ends;
      let start = 0;
      reply.outputs.topics.forEach((topic, i) => {
        const payload = reply.outputs.bytes.subarray(start, end[i]);
        start = end[i] as number;
        out.push(message(output.kind === 'mqtt' && output.topic !== undefined ? output.topic : topic, payload, { qos: 1 }));
      });
    }
    return out;
  }
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
  if (!edited && !disabled) writeFileSync(flow, toml);
  writeFileSync(template, toml);
}

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}
