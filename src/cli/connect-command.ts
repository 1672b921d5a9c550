import { Argument, type Command } from 'commander';
import { profileOption } from '../config/profiles';
import { durationMs } from '../config/value-types';
import { TedgeError } from '../core/errors';
import { CLOUDS, type Cloud } from '../connect/cloud-endpoint';
import { type ConnectDeps, connectCloud, testConnection } from '../connect/connect';
import { disconnectCloud } from '../connect/disconnect';
import { loadSystemConfig, ServiceManager } from '../connect/system-services';
import type { CommandContext } from './context';
import { EXIT_CANDIDATE_NOT_USED, ExitStatus } from './exit-codes';

interface ConnectFlags {
  test?: boolean;
  offline?: boolean;
  timeout: string;
  profile?: string;
}

const PROFILE_HELP = 'the cloud profile to use: <cloud>.profiles.<name>.* keys, c8y@<name>-bridge.conf, service tedge-mapper-<cloud>@<name> (env TEDGE_CLOUD_PROFILE)';

const cloudArgument = (): Argument => new Argument('<cloud>', 'the cloud: c8y (Cumulocity), az (Azure IoT Hub) or aws (AWS IoT)').choices(CLOUDS);

/** `tedge connect|disconnect|reconnect <cloud>`: wiring only; the steps are in src/connect. */
export function registerConnectCommand(program: Command, context: () => CommandContext): void {
  // The one place a profile enters: connect and disconnect read `<cloud>.*` through the config's view of it.
  const deps = (cloud: Cloud, flags: { timeout: string; profile?: string }): ConnectDeps => {
    const ctx = context();
    const config = ctx.config().forCloud(cloud, profileOption(flags.profile, ctx.env));
    const timeout = flags.timeout;
    let checkTimeoutMs: number;
    try {
      checkTimeoutMs = durationMs(timeout);
    } catch (cause) {
      throw new TedgeError('USAGE', `invalid --timeout '${timeout}': ${(cause as Error).message}`, { cause });
    }
    return { config, clock: ctx.clock, out: ctx.out, services: new ServiceManager(loadSystemConfig(config.configDir)), checkTimeoutMs };
  };

  program
    .command('connect')
    .description('connect the device to a cloud: check the connection, create the device (c8y), write the bridge, start the mapper (services through <config-dir>/system.toml)')
    .addArgument(cloudArgument())
    .option('--test', 'only check the connection of a connected device; change nothing')
    .option('--offline', 'do not reach the cloud: no connection check, no device creation')
    .option('--timeout <duration>', 'how long the cloud may take to answer each exchange', '10s')
    .option('--profile <name>', PROFILE_HELP)
    .action(async (cloud: Cloud, flags: ConnectFlags) => {
      if (flags.test && flags.offline) throw new TedgeError('USAGE', '--test and --offline exclude each other');
      const d = deps(cloud, flags);
      if (flags.test) return testConnection(cloud, d);
      await connectOrExit3(cloud, { offline: flags.offline ?? false }, d);
    });

  program
    .command('disconnect')
    .description('remove the bridge to a cloud, restart mosquitto, stop and disable tedge-mapper-<cloud>')
    .addArgument(cloudArgument())
    .option('--profile <name>', PROFILE_HELP)
    .action(async (cloud: Cloud, flags: { profile?: string }) => {
      const d = deps(cloud, { timeout: '10s', ...flags });
      await disconnectCloud(cloud, d);
    });

  program
    .command('reconnect')
    .description('disconnect, then connect again (e.g. to use a renewed certificate)')
    .addArgument(cloudArgument())
    .option('--offline', 'do not reach the cloud: no connection check, no device creation')
    .option('--timeout <duration>', 'how long the cloud may take to answer each exchange', '10s')
    .option('--profile <name>', PROFILE_HELP)
    .action(async (cloud: Cloud, flags: Omit<ConnectFlags, 'test'>) => {
      const d = deps(cloud, flags);
      await disconnectCloud(cloud, d);
      await connectOrExit3(cloud, { offline: flags.offline ?? false }, d);
    });
}

/** Exit 3 (thin-edge's contract) when connected with the current certificate because the new one was refused. */
async function connectOrExit3(cloud: Cloud, opts: { offline: boolean }, d: ConnectDeps): Promise<void> {
  const result = await connectCloud(cloud, opts, d);
  if (result.kind === 'candidate-not-used') throw new ExitStatus(EXIT_CANDIDATE_NOT_USED, result.reason);
}
