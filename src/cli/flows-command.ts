import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { topicMatches } from '../bus/topic-filter';
import { TedgeError, errorMessage } from '../core/errors';
import { type Message, formatLine, message, parseLine } from '../core/message';
import { createLogger } from '../log/logger';
import type { FlowDefinition } from '../flows/model';
import { mqttFilters } from '../flows/model';
import { assertStepLanguageSupported } from '../flows/compile-script';
import { FlowEngine } from '../flows/flow-engine';
import { flowsDirOf, isolationLimits, mapperParamsOf } from '../flows/local-mapper';
import { profileName } from '../config/profiles';
import { systemClock } from '../runtime/system-clock';
import { type Clock, fixedClock } from '../core/clock';
import type { CommandContext } from './context';

interface MapperOptions {
  mapper: string;
  profile?: string;
  flowsDir?: string;
}

interface TestOptions extends MapperOptions {
  flow?: string;
  finalOnInterval?: boolean;
  context?: string;
  processingTime?: string;
  base64Input?: boolean;
  base64Output?: boolean;
}

function processingClock(text: string | undefined): Clock {
  if (text === undefined) return systemClock;
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) throw new TedgeError('USAGE', `--processing-time: not an RFC 3339 time: ${text}`);
  return fixedClock(at);
}

/** `--context`: an inline JSON object, or the path of a file holding one. */
function contextValues(arg: string): Record<string, unknown> {
  const text = arg.trim().startsWith('{') || !existsSync(arg) ? arg : readFileSync(arg, 'utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new TedgeError('USAGE', `--context: not a JSON object: ${errorMessage(err)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TedgeError('USAGE', '--context: not a JSON object');
  return value as Record<string, unknown>;
}

/**
 * The directory name under `mappers/` of `--mapper` (`local`, a built-in mapper's name or a user mapper's:
 * `[a-z][a-z0-9-]*`, as thin-edge names them) and `--profile`: `<mapper>.<profile>`, as thin-edge's
 * profiled mappers keep their flows.
 */
function mapperDirName(opts: { mapper: string; profile?: string }): { dir: string; service: string } {
  const name = opts.mapper;
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new TedgeError('USAGE', `not a mapper name: '${name}' (expected [a-z][a-z0-9-]*)`);
  if (opts.profile === undefined) return { dir: name, service: `tedge-mapper-${name}` };
  const profile = profileName(opts.profile);
  return { dir: `${name}.${profile}`, service: `tedge-mapper-${name}@${profile}` };
}

/**
 * The engine the running mapper uses, printing instead of publishing; no MQTT. Outputs and errors are
 * `[topic] payload` lines, as the mapper would publish them (errors on te/errors unless the flow says
 * otherwise).
 */
function engineFor(ctx: CommandContext, opts: MapperOptions, print: (m: Message) => void, clock: Clock = systemClock): { engine: FlowEngine; dir: string } {
  const config = ctx.config();
  const mapper = mapperDirName(opts);
  const dir = opts.flowsDir ?? flowsDirOf(config, mapper.dir);
  const logger = createLogger({ name: 'tedge-flows', level: 'error', write: (line) => ctx.err(line) });
  const engine = new FlowEngine({ flowsDir: dir, topicRoot: config.string('mqtt.topic_root'), service: mapper.service, mapperParams: mapperParamsOf(config, mapper.dir), limits: isolationLimits(config), logger, clock, publish: print });
  return { engine, dir };
}

function describe(def: FlowDefinition): string {
  const lines = [
    `Flow        : ${def.name} (${def.version !== undefined ? `v${def.version}` : 'unversioned'})`,
    `Description : ${def.description ?? 'none'}`,
    `File        : ${def.path}`,
    ...(def.tags !== undefined ? [`Tags        : [${def.tags.join(',')}]`] : []),
    ...def.steps.map((s, i) => `Step ${i + 1}      : ${s.kind === 'builtin' ? `builtin:${s.name}` : s.path}`),
  ];
  return `${lines.join('\n')}\n\n`;
}

/** `tedge flows list|test|config-dir`, as thin-edge 2.x. */
export function registerFlowsCommand(program: Command, context: () => CommandContext): void {
  const flows = program.command('flows').description('list and test the flows of a mapper (user-defined mappings)');
  const mapperOpts = (cmd: Command): Command =>
    cmd
      .option('--mapper <name>', 'mapper whose flows are used', 'local')
      .option('--profile <name>', 'profile of the mapper (its flows are in mappers/<mapper>.<profile>/flows)')
      .option('--flows-dir <dir>', 'directory of flows (default <config-dir>/mappers/<mapper>[.<profile>]/flows)');

  mapperOpts(flows.command('list').description('list the flows and their steps'))
    .option('--topic <topic>', 'only the flows that process messages published on this topic')
    .action(async (opts: MapperOptions & { topic?: string }) => {
      const ctx = context();
      const errors: string[] = [];
      const { engine, dir } = engineFor(ctx, opts, (m) => errors.push(formatLine(m)));
      try {
        await engine.sync();
        const defs = engine.definitions().filter((d) => opts.topic === undefined || mqttFilters(d).some((f) => topicMatches(f, opts.topic as string)));
        for (const def of defs.sort((a, b) => a.path.localeCompare(b.path))) ctx.out(describe(def));
        for (const e of errors) ctx.err(`${e}\n`);
        if (errors.length > 0) throw new TedgeError('CONFIG_FILE', 'Some invalid flows');
        if (engine.definitions().length === 0) throw new TedgeError('CONFIG_FILE', `No valid flows in ${dir}`);
      } finally {
        await engine.stop();
      }
    });

  mapperOpts(flows.command('test').description('run message samples through the flows: `[topic] payload` lines on stdin, or TOPIC PAYLOAD'))
    .argument('[topic]', 'topic of the sample message')
    .argument('[payload]', 'payload of the sample message')
    .option('--flow <file>', 'only this flow definition (.toml), or this step script alone (.js, .mjs, .ts)')
    .option('--final-on-interval', 'call onInterval after the last sample')
    .option('--context <json>', 'JSON object (inline, or a file) to initialise context.mapper with')
    .option('--processing-time <rfc3339>', 'processing time of the samples (default: now)')
    .option('--base64-input', 'the sample payloads are base64')
    .option('--base64-output', 'print the output payloads as base64')
    .action(async (topic: string | undefined, payload: string | undefined, opts: TestOptions) => {
      if (topic !== undefined && payload === undefined) throw new TedgeError('USAGE', 'Missing sample payload');
      const ctx = context();
      const print = (m: Message): void => ctx.out(`${opts.base64Output ? `[${m.topic}] ${Buffer.from(m.payload).toString('base64')}` : formatLine(m)}\n`);
      const { engine } = engineFor(ctx, opts, print, processingClock(opts.processingTime));
      const sample = (t: string, p: string): Message => message(t, opts.base64Input ? Buffer.from(p, 'base64') : p);
      try {
        if (opts.context !== undefined) engine.seedMapperContext(contextValues(opts.context));
        const only = opts.flow === undefined ? undefined : resolve(opts.flow);
        if (only === undefined) await engine.sync();
        else if (only.endsWith('.toml')) await engine.sync((path) => path === only);
        else if (/\.(m?js|ts)$/.test(only)) {
          // One error line, not a load report followed by "no such flow".
          assertStepLanguageSupported(only);
          await engine.loadScriptAsFlow(only);
        }
        else throw new TedgeError('USAGE', `--flow takes a flow definition (.toml) or a step script (.js, .mjs, .ts): ${opts.flow}`);
        if (only !== undefined && engine.definitions().length === 0) throw new TedgeError('CONFIG_FILE', `no such flow: ${opts.flow}`);
        // One sample at a time, through the same engine (and so the same workers and steps) as the mapper.
        if (topic !== undefined) await engine.dispatch(sample(topic, payload ?? ''));
        else {
          for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
            if (line.trim() === '') continue;
            const parsed = parseLine(line);
            await engine.dispatch(sample(parsed.topic, Buffer.from(parsed.payload).toString('utf8')));
          }
        }
        if (opts.finalOnInterval) await engine.tick(true);
      } finally {
        await engine.stop();
      }
    });

  flows
    .command('config-dir')
    .description('print the directory of the flows of a mapper')
    .option('--mapper <name>', 'mapper name', 'local')
    .option('--profile <name>', 'profile of the mapper')
    .action((opts: { mapper: string; profile?: string }) => {
      const ctx = context();
      ctx.out(`${flowsDirOf(ctx.config(), mapperDirName(opts).dir)}\n`);
    });
}
