import { Command, CommanderError, Option } from 'commander';
import { type CloudScope, PROFILE_CLOUDS, mapperServiceName } from '../config/profiles';
import { TedgeConfig, resolveConfigDir } from '../config/tedge-config';
import { errorMessage } from '../core/errors';
import { configuredUserMappers } from '../flows/configured-mappers';
import { daemonLogging, reloadOnHangup } from '../log/daemon-logging';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../log/logger';
import { nativeForProcess } from '../native/binding';
import { type ComponentMain, SignalScopes, mainComponent } from '../runtime/main-component';
import { eventLoopBusy, processResidentFileBytes, scheduleResidentPageRelease } from '../runtime/resident-pages';
import { runSupervised } from '../runtime/run-supervised';
import { SYSTEMD_NOTIFY_VARIABLES, SystemdNotifier } from '../runtime/sd-notify';
import { type Component, Supervisor } from '../runtime/supervisor';
import { systemClock, systemTimers } from '../runtime/system-clock';

export const MAPPERS = ['c8y', 'az', 'aws', 'collectd'] as const;
export type MapperName = (typeof MAPPERS)[number];

export interface RunAllPlan {
  readonly agent: boolean;
  readonly mappers: readonly MapperName[];
  /** Cloud profiles with their url set: each its own mapper, `tedge-mapper-<cloud>@<name>` (not with --mappers). */
  readonly profiles: readonly CloudScope[];
  /** `tedge-mapper local` and the user-defined mappers of `<config-dir>/mappers/` (thin-edge 2.x). */
  readonly userMappers: readonly string[];
  /** One line per decision, logged at start so that "why is az not running?" has an answer. */
  readonly reasons: readonly string[];
}

/**
 * Which components `tedge run all` runs when not told (`--mappers`):
 * - the agent, always (unless --no-agent);
 * - c8y when `c8y.url` is set, or when no cloud URL at all is set but `device.id` is: a device not yet
 *   connected to any cloud still gets its telemetry mapped (what `tedge-mapper c8y` alone would do);
 * - az when `az.url` is set, aws when `aws.url` is set;
 * - collectd only when listed in --mappers: thin-edge.io has no key for it (its unit is enabled or not);
 * - each cloud profile whose url is set (`c8y.profiles.<name>.url`), as `tedge-mapper c8y --profile <name>`;
 * - `local` when `<config-dir>/mappers/local/flows/` exists, and each other directory of `<config-dir>/mappers/`
 *   with a mapper.toml or a flows/ (not c8y, az, aws, collectd nor their `<cloud>.<profile>`), as `tedge-mapper <name>`.
 * Each mapper hosts its cloud's built-in bridge, so the bridges come with their mappers.
 */
export function planComponents(config: TedgeConfig, flags: { readonly agent: boolean; readonly mappers?: readonly string[] }): RunAllPlan {
  const reasons: string[] = [];
  const user = configuredUserMappers(config.configDir);
  if (flags.mappers !== undefined) {
    const unknown = flags.mappers.filter((m) => !MAPPERS.some((k) => k === m) && !user.names.includes(m));
    if (unknown.length > 0) throw new CommanderError(2, 'tedge.unknownMapper', `error: unknown mapper(s) ${unknown.join(', ')}: known are ${[...MAPPERS, ...user.names].join(', ')}`);
    const mappers = MAPPERS.filter((m) => flags.mappers?.includes(m));
    const userMappers = user.names.filter((m) => flags.mappers?.includes(m));
    reasons.push(`mappers from --mappers: ${[...mappers, ...userMappers].join(', ') || 'none'}`);
    return { agent: flags.agent, mappers, profiles: [], userMappers, reasons };
  }
  const has = (key: 'c8y.url' | 'az.url' | 'aws.url' | 'device.id'): boolean => (config.text(key) ?? '') !== '';
  const mappers: MapperName[] = [];
  if (has('c8y.url')) {
    mappers.push('c8y');
    reasons.push('c8y: c8y.url is set');
  } else if (!has('az.url') && !has('aws.url') && has('device.id')) {
    mappers.push('c8y');
    reasons.push('c8y: no cloud url is set, device.id is: local mapping');
  }
  for (const cloud of ['az', 'aws'] as const) {
    if (has(`${cloud}.url`)) {
      mappers.push(cloud);
      reasons.push(`${cloud}: ${cloud}.url is set`);
    }
  }
  const profiles: CloudScope[] = [];
  for (const cloud of PROFILE_CLOUDS) {
    for (const profile of config.profiles(cloud)) {
      if ((config.forCloud(cloud, profile).text(`${cloud}.url`) ?? '') === '') continue;
      profiles.push({ cloud, profile });
      reasons.push(`${cloud}@${profile}: ${cloud}.profiles.${profile}.url is set`);
    }
  }
  for (const name of user.names) reasons.push(name === 'local' ? 'local: mappers/local/flows/ exists' : `${name}: user-defined mapper in mappers/${name}/`);
  for (const name of user.skipped) reasons.push(`mappers/${name}/ skipped: not a mapper name ([a-z][a-z0-9-]*, not bridge-*)`);
  if (mappers.length === 0 && profiles.length === 0 && user.names.length === 0) reasons.push('no mapper: no cloud url, no device.id and no user-defined mapper');
  return { agent: flags.agent, mappers, profiles, userMappers: user.names, reasons };
}

interface RunAllFlags {
  readonly configDir?: string;
  readonly logLevel?: LogLevel;
  readonly debug?: boolean;
  readonly logFormat?: LogFormat;
  readonly mappers?: string[];
  readonly agent: boolean;
  readonly releasePages: number;
}

function parseFlags(argv: readonly string[]): RunAllFlags {
  const program = new Command('tedge run all')
    .description('Runs the agent and the mappers of the configured clouds (with their bridges) in one process, under a supervisor')
    .option('--config-dir <dir>', 'configuration directory (env TEDGE_CONFIG_DIR, default /etc/tedge)')
    .addOption(new Option('--log-level <level>', 'log level of every component (default: each its own from [log] of <config-dir>/system.toml, else info; SIGHUP reads it again)').choices(LOG_LEVELS))
    .option('--debug', 'same as --log-level debug')
    .addOption(new Option('--log-format <format>', 'text (readable lines) or json (default: logs.format)').choices(LOG_FORMATS))
    .option('--mappers <list>', `comma-separated mappers to run instead of those of the configured clouds (${MAPPERS.join(', ')})`, (v: string) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    )
    .option('--no-agent', 'do not run the agent')
    .addOption(
      new Option(
        '--release-pages <seconds>',
        "the executable's clean pages are given back to the kernel 10 s after start-up, then again when they have grown back and the process is quiet, checked every <seconds>; 0: never",
      )
        .argParser((v: string) => {
          const n = Number(v);
          if (!Number.isFinite(n) || n < 0) throw new CommanderError(2, 'tedge.releasePages', `error: --release-pages: not a number of seconds: ${v}`);
          return n;
        })
        .default(30),
    )
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) })
    .parse([...argv], { from: 'user' });
  return program.opts<RunAllFlags>();
}

/** The daemons' entry points, required lazily and statically so a bundler includes them. */
function loadAgent(): ComponentMain {
  return (require('../agent/main') as { main: ComponentMain }).main;
}
function loadMapper(): ComponentMain {
  return (require('../mapper/main') as { main: (argv: readonly string[], env: NodeJS.ProcessEnv) => Promise<number> }).main;
}

/**
 * `tedge run all`: the composition root of the single-process mode. Each component is the daemon's own
 * `main`, with its own MQTT session, health topic and logger name; the supervisor owns the process
 * signals, the systemd notifications and the errors that escape a component.
 */
export async function main(argv: string[], env: NodeJS.ProcessEnv, proc: NodeJS.Process = process): Promise<number> {
  let flags: RunAllFlags;
  try {
    flags = parseFlags(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  const logging = daemonLogging('tedge-run-all', flags, resolveConfigDir(flags.configDir, env), env);
  const logger = logging.logger;
  let plan: RunAllPlan;
  try {
    plan = planComponents(TedgeConfig.load(resolveConfigDir(flags.configDir, env), env), flags);
  } catch (err) {
    if (err instanceof CommanderError) {
      proc.stderr.write(`${err.message}\n`);
      return 2;
    }
    logger.error(errorMessage(err));
    proc.stderr.write(`error: ${errorMessage(err)}\n`);
    return 1;
  }

  // The supervisor speaks to systemd for the whole process: the daemons must not announce READY alone.
  const systemd = new SystemdNotifier({ ...env }, proc.pid);
  const componentEnv: NodeJS.ProcessEnv = { ...env };
  for (const name of SYSTEMD_NOTIFY_VARIABLES) {
    delete componentEnv[name];
    delete proc.env[name];
  }

  // Only what was given: without --log-level each component takes its own level from system.toml.
  const level = flags.logLevel ?? (flags.debug === true ? 'debug' : undefined);
  const common = [
    ...(flags.configDir === undefined ? [] : ['--config-dir', flags.configDir]),
    ...(level === undefined ? [] : ['--log-level', level]),
    ...(flags.logFormat === undefined ? [] : ['--log-format', flags.logFormat]),
  ];
  const signals = new SignalScopes();
  const components: Component[] = [];
  if (plan.agent) components.push(mainComponent({ name: 'tedge-agent', kind: 'agent', load: loadAgent, argv: common, env: componentEnv, signals }));
  for (const cloud of plan.mappers) {
    components.push(mainComponent({ name: `tedge-mapper-${cloud}`, kind: 'mapper', load: loadMapper, argv: [...common, cloud], env: componentEnv, signals }));
  }
  for (const name of plan.userMappers) {
    components.push(mainComponent({ name: `tedge-mapper-${name}`, kind: 'mapper', load: loadMapper, argv: [...common, name], env: componentEnv, signals }));
  }
  for (const scope of plan.profiles) {
    components.push(mainComponent({ name: mapperServiceName(scope), kind: 'mapper', load: loadMapper, argv: [...common, scope.cloud, '--profile', scope.profile ?? ''], env: componentEnv, signals }));
  }
  logger.info({ components: components.map((c) => c.name), reasons: plan.reasons }, 'starting');
  if (components.length === 0) {
    proc.stderr.write('error: nothing to run: set c8y.url, az.url, aws.url or device.id, add a mapper under <config-dir>/mappers/, or pass --mappers\n');
    return 1;
  }

  const supervisor = new Supervisor(components, { clock: systemClock, timers: systemTimers, logger });
  // Before the scopes: this listener is the process's own (the supervisor hands SIGHUP to each component too).
  const stopReloading = reloadOnHangup(proc, logging);
  const undo = signals.install(proc);
  let cancelRelease: (() => void) | undefined;
  const onStarted = (): void => {
    if (flags.releasePages === 0) return;
    // Loaded by the components by now (the hot path); an addon built before releaseResidentPages has none.
    const release = nativeForProcess().binding?.releaseResidentPages;
    if (release === undefined) return;
    cancelRelease = scheduleResidentPageRelease({
      release,
      timers: systemTimers,
      logger,
      residentFileBytes: processResidentFileBytes,
      busySinceLastCall: eventLoopBusy(),
      firstAfterMs: 10_000,
      checkEveryMs: flags.releasePages * 1000,
      regrowthBytes: 4 * 1024 * 1024,
    });
  };
  try {
    return await runSupervised({ proc, supervisor, systemd, timers: systemTimers, logger, onStarted });
  } finally {
    cancelRelease?.();
    undo();
    stopReloading();
    logger.info('stopped');
  }
}
