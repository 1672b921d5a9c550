import { Command, Option } from 'commander';
import { resolveConfigDir, TedgeConfig } from '../config/tedge-config';
import type { LogLevel } from '../log/logger';
import { systemClock } from '../runtime/system-clock';
import { registerCertCommand } from './cert-command';
import { registerConfigCommand } from './config-command';
import { registerConnectCommand } from './connect-command';
import type { CliDeps, CommandContext } from './context';
import { EXIT_OK, errorLine, exitCodeOf } from './exit-codes';
import { registerMqttCommand } from './mqtt-command';
import { registerWriteCommand } from './write-command';
import { registerFilePluginCommands } from './file-plugin-command';
import { registerHttpCommand } from './http-command';
import { registerUploadCommand } from './upload-command';
import { registerFlowsCommand } from './flows-command';
import { registerMapperCommand } from './mapper-command';
import { registerCompletionsCommand } from './completions-command';
import { registerDiagCommand } from './diag-command';
import { registerInitCommand } from './init-command';
import { registerRefreshBridgesCommand } from './refresh-bridges-command';
import { registerBridgeCommand } from './bridge-command';

export type { CliDeps } from './context';

const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug', 'trace'];

interface GlobalOptions {
  configDir?: string;
  logLevel?: LogLevel;
  debug?: boolean;
}

/** The `tedge` command tree. It never exits the process: errors are thrown (exitOverride) for run() to map. */
export function buildProgram(deps: CliDeps): Command {
  const program = new Command('tedge')
    .description('thin-edge.io: configure the device, talk to the local MQTT bus')
    .exitOverride()
    .configureOutput({ writeOut: deps.out, writeErr: deps.err })
    // thin-edge prints `tedge <version>`.
    .version(`tedge ${deps.version}`, '-V, --version', 'print the version')
    .option('--config-dir <dir>', 'configuration directory (env TEDGE_CONFIG_DIR, default /etc/tedge)')
    .addOption(new Option('--log-level <level>', 'log level of the command').choices(LOG_LEVELS))
    .option('--debug', 'same as --log-level debug');

  const context = (): CommandContext => ({
    out: deps.out,
    outBytes: deps.outBytes ?? ((b) => deps.out(Buffer.from(b).toString('utf8'))),
    err: deps.err,
    env: deps.env,
    signal: deps.signal,
    clock: deps.clock ?? systemClock,
    config: () => TedgeConfig.load(resolveConfigDir(program.opts<GlobalOptions>().configDir, deps.env), deps.env),
  });

  registerConfigCommand(program, context);
  registerMqttCommand(program, context);
  registerCertCommand(program, context);
  registerConnectCommand(program, context);
  registerWriteCommand(program, context);
  registerFilePluginCommands(program, context);
  registerHttpCommand(program, context);
  registerUploadCommand(program, context);
  registerFlowsCommand(program, context);
  registerMapperCommand(program, context);
  registerInitCommand(program, context);
  registerRefreshBridgesCommand(program, context);
  registerBridgeCommand(program, context);
  registerDiagCommand(program, context);
  registerCompletionsCommand(program, context);
  return program;
}

/** Runs one command line (without node and script) and returns the exit code; prints at most one error line. */
export async function runTedge(args: readonly string[], deps: CliDeps): Promise<number> {
  const program = buildProgram(deps);
  try {
    await program.parseAsync([...args], { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    const line = errorLine(error);
    if (line !== undefined) deps.err(`${line}\n`);
    const opts = program.opts<GlobalOptions>();
    // An unexpected error is a bug: its stack helps only when asked for.
    if ((opts.debug || opts.logLevel === 'debug' || opts.logLevel === 'trace') && error instanceof Error && error.stack) deps.err(`${error.stack}\n`);
    return exitCodeOf(error);
  }
}
