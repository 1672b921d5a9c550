import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TedgeConfig, resolveConfigDir } from '../../config/tedge-config';
import { errorMessage } from '../../core/errors';
import { errorsTopic } from '../../core/topics';
import { mapperParamsOf } from '../../flows/local-mapper';
import { EXIT_SUCCESS, EXIT_USAGE, type PluginIo as Io, runPluginCommand } from '../plugin-cli';
import { type FlowsCli, USAGE, parseFlowsArgs } from './args';
import { type FlowPaths, installFlow, listFlows, parseFlowModule, removeFlow } from './flow-packages';

/** tedge.ini; a broken config is no reason to fail a flow operation (thin-edge: defaults and a warning). */
function loadConfig(dir: string, io: Io): TedgeConfig | undefined {
  try {
    return TedgeConfig.load(dir, io.env);
  } catch (err) {
    io.err(`warn: cannot read the tedge config, using defaults: ${errorMessage(err)}\n`);
    return undefined;
  }
}

function execute(cli: FlowsCli, io: Io): number {
  const configDir = resolveConfigDir(cli.configDir, io.env);
  const paths: FlowPaths = { mappersDir: join(configDir, 'mappers') };
  const warn = (line: string): void => io.err(`warn: ${line}\n`);
  const op = cli.operation;
  switch (op.op) {
    case 'list': {
      const lines = listFlows(paths, warn).map((f) => `${f.name}\t${f.version}\n`);
      io.out(lines.join(''));
      return EXIT_SUCCESS;
    }
    case 'install': {
      const module = parseFlowModule(op.module);
      const config = loadConfig(configDir, io);
      let mapperParams: Record<string, unknown> = {};
      try {
        if (config !== undefined) mapperParams = mapperParamsOf(config, module.mapper);
      } catch (err) {
        warn(`the flows are checked without \${mapper.*} values: ${errorMessage(err)}`);
      }
      let archive: Buffer;
      try {
        archive = readFileSync(op.file);
      } catch (err) {
        throw new Error(`cannot read ${op.file}: ${errorMessage(err)}`);
      }
      installFlow(paths, module, archive, {
        ...(op.version !== undefined && { version: op.version }),
        mapperParams,
        errorsTopic: errorsTopic(config?.string('mqtt.topic_root') ?? 'te'),
        warn,
      });
      io.out(`installed flow ${op.module} from ${op.file}\n`);
      return EXIT_SUCCESS;
    }
    case 'remove': {
      const module = parseFlowModule(op.module);
      const keepParams = op.keepParams || (loadConfig(configDir, io)?.boolean('flows.params.keep_on_delete') ?? false);
      io.out(`removed flow ${op.module}: ${removeFlow(paths, module, keepParams)}\n`);
      return EXIT_SUCCESS;
    }
    case 'update-list':
      return EXIT_USAGE;
    case 'prepare':
    case 'finalize':
      return EXIT_SUCCESS;
  }
}

/** The plugin on an argv: its exit status (update-list: 1, not supported), one `ERROR:` line on stderr for a failure. */
export function runFlowsPlugin(argv: readonly string[], io: Io): number {
  return runPluginCommand(argv, io, { usage: USAGE, parse: parseFlowsArgs, execute: (cli) => execute(cli, io) });
}

/** tedge-flows-plugin (`/etc/tedge/sm-plugins/flow`, `tedge run tedge-flows-plugin`). */
export function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return Promise.resolve(runFlowsPlugin(argv, { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), env }));
}
