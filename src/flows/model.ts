import { basename, dirname, extname, isAbsolute, join, relative, sep } from 'node:path';
import { isValidFilter, isValidTopicName, topicMatches } from '../bus/topic-filter';
import { durationMs } from '../config/value-types';
import { TedgeError, errorMessage } from '../core/errors';
import { type Substitutions, substituteConfig, substituteText } from './params';

/** Where a flow takes its messages from. */
export type FlowInput =
  | { readonly kind: 'mqtt'; readonly topics: readonly string[] }
  /** Lines of a file: followed as `tail -F`, or read whole every `intervalMs`. */
  | { readonly kind: 'file'; readonly path: string; readonly topic: string; readonly intervalMs?: number }
  /** Lines a command prints: one long-running command, or one run every `intervalMs`. */
  | { readonly kind: 'process'; readonly command: string; readonly topic: string; readonly intervalMs?: number };

export type FlowOutput =
  | { readonly kind: 'mqtt'; readonly topic?: string; readonly acceptTopics?: readonly string[] }
  | { readonly kind: 'file'; readonly path: string };

export type StepDefinition =
  | { readonly kind: 'builtin'; readonly name: string; readonly config: Record<string, unknown>; readonly intervalMs: number }
  | { readonly kind: 'script'; readonly path: string; readonly config: Record<string, unknown>; readonly intervalMs: number };

export interface FlowDefinition {
  /** Derived from the path as thin-edge does: `a.toml` → `a`, `a/flow.toml` → `a`, `a/b.toml` → `a/b`. */
  readonly name: string;
  readonly path: string;
  readonly version?: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly inputs: readonly FlowInput[];
  readonly steps: readonly StepDefinition[];
  readonly output: FlowOutput;
  readonly errors: FlowOutput;
}

const DEFAULT_STEP_INTERVAL_MS = 1000;

/** The flow name of a `.toml` file under `flowsDir`, or undefined for params files and other files. */
export function flowName(flowsDir: string, path: string): string | undefined {
  const rel = relative(flowsDir, path);
  if (rel.startsWith('..') || isAbsolute(rel) || extname(rel) !== '.toml') return undefined;
  const file = basename(rel);
  if (file === 'params.toml' || file === 'params.toml.template' || file === '.toml') return undefined;
  const dir = dirname(rel).split(sep).join('/');
  const stem = file.slice(0, -'.toml'.length);
  if (stem === 'flow') return dir === '.' ? 'flow' : dir;
  return dir === '.' ? stem : `${dir}/${stem}`;
}

function table(value: unknown, where: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${where} must be a table`);
  return value as Record<string, unknown>;
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '') throw new Error(`${where} must be a non-empty string`);
  return value;
}

/** `input.mqtt = {..}` and `[[input.mqtt]]` are both accepted, as in thin-edge. */
function oneOrMany(value: unknown, where: string): Record<string, unknown>[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((v, i) => table(v, Array.isArray(value) ? `${where}[${i}]` : where));
}

function interval(value: unknown, subs: Substitutions, where: string): number | undefined {
  if (value === undefined) return undefined;
  const raw = typeof value === 'number' ? `${value}s` : substituteText(text(value, where), subs, where);
  try {
    return durationMs(raw);
  } catch (err) {
    throw new Error(`${where}: not a valid interval '${raw}': ${errorMessage(err)}`);
  }
}

function parseInputs(input: Record<string, unknown>, subs: Substitutions, flowDir: string): FlowInput[] {
  const inputs: FlowInput[] = [];
  for (const [i, mqtt] of oneOrMany(input['mqtt'], 'input.mqtt').entries()) {
    const topics = mqtt['topics'];
    if (!Array.isArray(topics)) throw new Error(`input.mqtt[${i}].topics must be a list of topic filters`);
    const filters = topics.map((t, j) => substituteText(text(t, `input.mqtt.topics[${j}]`), subs, 'input.mqtt.topics'));
    for (const f of filters) if (!isValidFilter(f)) throw new Error(`Not a valid MQTT topic filter: ${f}`);
    inputs.push({ kind: 'mqtt', topics: filters });
  }
  for (const file of oneOrMany(input['file'], 'input.file')) {
    const path = substituteText(text(file['path'], 'input.file.path'), subs, 'input.file.path');
    const topic = file['topic'] === undefined ? path : substituteText(text(file['topic'], 'input.file.topic'), subs, 'input.file.topic');
    const every = interval(file['interval'], subs, 'input.file.interval');
    inputs.push({ kind: 'file', path: isAbsolute(path) ? path : join(flowDir, path), topic, ...(every !== undefined ? { intervalMs: every } : {}) });
  }
  for (const proc of oneOrMany(input['process'], 'input.process')) {
    const command = substituteText(text(proc['command'], 'input.process.command'), subs, 'input.process.command');
    const topic = proc['topic'] === undefined ? command : substituteText(text(proc['topic'], 'input.process.topic'), subs, 'input.process.topic');
    const every = interval(proc['interval'], subs, 'input.process.interval');
    inputs.push({ kind: 'process', command, topic, ...(every !== undefined ? { intervalMs: every } : {}) });
  }
  return inputs;
}

function parseOutput(value: unknown, subs: Substitutions, where: string, fallback: FlowOutput, flowDir: string): FlowOutput {
  if (value === undefined) return fallback;
  const out = table(value, where);
  if (out['file'] !== undefined) {
    const path = substituteText(text(table(out['file'], `${where}.file`)['path'], `${where}.file.path`), subs, `${where}.file.path`);
    return { kind: 'file', path: isAbsolute(path) ? path : join(flowDir, path) };
  }
  const mqtt = table(out['mqtt'], `${where}.mqtt`);
  const topic = mqtt['topic'] === undefined ? undefined : substituteText(text(mqtt['topic'], `${where}.mqtt.topic`), subs, `${where}.mqtt.topic`);
  if (topic !== undefined && !isValidTopicName(topic)) throw new Error(`Not a valid MQTT topic: ${topic}`);
  const accept = mqtt['accept_topics'];
  const acceptTopics = accept === undefined ? undefined : (Array.isArray(accept) ? accept : [accept]).map((t) => substituteText(text(t, `${where}.mqtt.accept_topics`), subs, where));
  return { kind: 'mqtt', ...(topic !== undefined ? { topic } : {}), ...(acceptTopics !== undefined ? { acceptTopics } : {}) };
}

function parseStep(value: unknown, i: number, flowConfig: Record<string, unknown>, subs: Substitutions, flowDir: string): StepDefinition {
  const where = `steps[${i}]`;
  const step = table(value, where);
  // The flow's config gives defaults to every step; the step's own config wins.
  const config = { ...flowConfig, ...(substituteConfig(table(step['config'], `${where}.config`), subs, `${where}.config`) as Record<string, unknown>) };
  const intervalMs = interval(step['interval'], subs, `${where}.interval`) ?? DEFAULT_STEP_INTERVAL_MS;
  if (step['builtin'] !== undefined) return { kind: 'builtin', name: text(step['builtin'], `${where}.builtin`), config, intervalMs };
  if (step['script'] !== undefined) {
    const script = text(step['script'], `${where}.script`);
    if (!/\.(m?js|ts)$/.test(script)) throw new Error(`${where}.script: a step script is a .js, .mjs or .ts file: ${script}`);
    return { kind: 'script', path: isAbsolute(script) ? script : join(flowDir, script), config, intervalMs };
  }
  throw new Error(`${where}: a step needs 'builtin' or 'script'`);
}

/**
 * A flow TOML table as a definition: parameters substituted, paths resolved against the flow's
 * directory, topics checked, and a flow whose MQTT output would feed its own input refused.
 * Errors are CONFIG_FILE naming the file.
 */
export function parseFlow(doc: Record<string, unknown>, path: string, name: string, subs: Substitutions, defaultErrorsTopic: string): FlowDefinition {
  const flowDir = dirname(path);
  try {
    const flowConfig = substituteConfig(table(doc['config'], 'config'), subs, 'config') as Record<string, unknown>;
    const inputs = parseInputs(table(doc['input'], 'input'), subs, flowDir);
    if (inputs.length === 0) throw new Error(`Flow '${name}' must define at least one input`);
    const stepsValue = doc['steps'] ?? [];
    if (!Array.isArray(stepsValue)) throw new Error('steps must be a list');
    const steps = stepsValue.map((s, i) => parseStep(s, i, flowConfig, subs, flowDir));
    const output = parseOutput(doc['output'], subs, 'output', { kind: 'mqtt' }, flowDir);
    const errors = parseOutput(doc['errors'], subs, 'errors', { kind: 'mqtt', topic: defaultErrorsTopic }, flowDir);
    if (output.kind === 'mqtt' && output.topic !== undefined && doc['expect_loop'] !== true) {
      for (const input of inputs) {
        if (input.kind !== 'mqtt') continue;
        const loop = input.topics.find((f) => topicMatches(f, output.topic as string));
        if (loop !== undefined) throw new Error(`Flow '${name}' defines an infinite loop: the output topic '${output.topic}' matches input filter '${loop}'`);
      }
    }
    if (output.kind === 'file' && doc['expect_loop'] !== true && inputs.some((i) => i.kind === 'file' && i.path === output.path)) {
      throw new Error(`Flow '${name}' defines an infinite loop: the output file '${output.path}' is the same as the input file`);
    }
    const meta = {
      ...(typeof doc['version'] === 'string' ? { version: doc['version'] } : {}),
      ...(typeof doc['description'] === 'string' ? { description: doc['description'] } : {}),
      ...(Array.isArray(doc['tags']) ? { tags: doc['tags'].map(String) } : {}),
    };
    return { name, path, ...meta, inputs, steps, output, errors };
  } catch (err) {
    throw new TedgeError('CONFIG_FILE', `${path}: ${errorMessage(err)}`, { cause: err });
  }
}

/** The MQTT filters a flow subscribes to. */
export function mqttFilters(flow: FlowDefinition): string[] {
  return flow.inputs.flatMap((i) => (i.kind === 'mqtt' ? i.topics : []));
}
