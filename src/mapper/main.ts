import { Command, CommanderError, Option } from 'commander';
import { type CloudScope, mapperServiceName, profileOption } from '../config/profiles';
import { TedgeConfig, resolveConfigDir } from '../config/tedge-config';
import { TedgeError, errorMessage, isTedgeError } from '../core/errors';
import { daemonLogging, reloadOnHangup } from '../log/daemon-logging';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel, type Logger } from '../log/logger';
import { type Lifecycle, terminationSignal } from '../runtime/lifecycle';
import { buildAwsMapper } from './aws/main';
import { buildAzMapper } from './az/main';
import { buildC8yMapper } from './c8y/main';
import { buildCollectdMapper } from './collectd/main';
import { buildLocalMapper, isUserMapperName } from '../flows/local-mapper';

const CLOUDS = ['c8y', 'az', 'aws', 'collectd', 'local'] as const;
type MapperName = (typeof CLOUDS)[number];

/** One composition root per mapper; a Record, so a name added to CLOUDS without a builder does not compile. */
const BUILDERS: Record<MapperName, (config: TedgeConfig, logger: Logger, stop: AbortSignal) => Promise<Lifecycle>> = {
  c8y: buildC8yMapper,
  az: buildAzMapper,
  aws: buildAwsMapper,
  collectd: buildCollectdMapper,
  /** thin-edge 2.x: the flows of <config-dir>/mappers/local/flows, no cloud. */
  local: buildLocalMapper,
};

function isMapperName(name: string | undefined): name is MapperName {
  return CLOUDS.some((c) => c === name);
}

/** `tedge-mapper <cloud>`: parses flags, builds the chosen mapper and runs it until a signal. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const program = new Command('tedge-mapper')
    .description('Translates Thin Edge JSON on te/ topics to a cloud format and back')
    .option('--config-dir <dir>', 'configuration directory (env TEDGE_CONFIG_DIR)')
    .addOption(new Option('--log-level <level>', 'log level (default: [log] tedge-mapper-<cloud>, else tedge-mapper, of <config-dir>/system.toml, else info; SIGHUP reads it again)').choices(LOG_LEVELS))
    .option('--debug', 'same as --log-level debug')
    .addOption(new Option('--log-format <format>', 'text (readable lines) or json (default: logs.format)').choices(LOG_FORMATS))
    .option('--profile <name>', 'cloud profile (c8y.profiles.<name>.*): its own bridge, outbox, health topic and service tedge-mapper-<cloud>@<name> (env TEDGE_CLOUD_PROFILE)')
    .argument('<cloud>', `one of: ${CLOUDS.join(', ')}`)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    // As every thin-edge command line: a usage error is 2.
    return err instanceof CommanderError ? (err.exitCode === 0 ? 0 : 2) : 1;
  }
  const opts = program.opts<{ configDir?: string; logLevel?: LogLevel; debug?: boolean; logFormat?: LogFormat; profile?: string }>();
  const cloud = program.args[0];
  let scope: CloudScope | undefined;
  try {
    const profile = profileOption(opts.profile, env);
    if (profile !== undefined && (cloud === 'collectd' || !isMapperName(cloud))) throw new TedgeError('USAGE', `--profile applies to the c8y, az and aws mappers`);
    scope = cloud === 'c8y' || cloud === 'az' || cloud === 'aws' ? { cloud, profile } : undefined;
  } catch (err) {
    process.stderr.write(`error: ${errorMessage(err)}\n`);
    return 2;
  }
  const configDir = resolveConfigDir(opts.configDir, env);
  const logging = daemonLogging(scope === undefined ? `tedge-mapper-${cloud}` : mapperServiceName(scope), opts, configDir, env);
  const logger = logging.logger;
  const stopReloading = reloadOnHangup(process, logging);
  // Listened to before anything connects: a stop while waiting for the broker ends the wait.
  const stop = terminationSignal(process);
  try {
    const userMapper = !isMapperName(cloud) && cloud !== undefined && isUserMapperName(cloud);
    if (!isMapperName(cloud) && !userMapper) throw new TedgeError('USAGE', `unsupported cloud '${cloud}': supported are ${CLOUDS.join(', ')}, or a user-defined mapper of <config-dir>/mappers/`);
    // The one place a profile enters: the mapper, its bridge and its HTTP side read `<cloud>.*` through this view.
    const loaded = TedgeConfig.load(configDir, env);
    const config = scope === undefined ? loaded : loaded.forCloud(scope.cloud, scope.profile);
    for (const warning of config.warnings) logger.warn(warning);
    // Any other name is a user-defined mapper (thin-edge 2.x): its flows under <config-dir>/mappers/<name>/.
    const lifecycle = isMapperName(cloud) ? await BUILDERS[cloud](config, logger, stop) : await buildLocalMapper(config, logger, stop, cloud as string);
    await lifecycle.run(stop, process);
    return 0;
  } catch (err) {
    if (stop.aborted) {
      logger.info('stopped before the local broker was reached');
      return 0;
    }
    // One line on stderr; a JSON log gets its record too, for whoever reads the log by machine.
    if (logging.format === 'json') logger.error({ code: isTedgeError(err) ? err.code : undefined }, errorMessage(err));
    process.stderr.write(`error: ${errorMessage(err)}\n`);
    return isTedgeError(err) && err.code === 'USAGE' ? 2 : 1;
  } finally {
    stopReloading();
  }
}
