import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { MqttBus } from '../bus/mqtt-bus';
import { TedgeConfig, resolveConfigDir } from '../config/tedge-config';
import { errorMessage } from '../core/errors';
import { serviceTopicId } from '../core/topics';
import { daemonLogging, reloadOnHangup } from '../log/daemon-logging';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../log/logger';
import { watchBrokerConnection } from './broker-connection-log';
import { HealthReporter, healthLastWill } from './health';
import { Lifecycle, terminationSignal } from './lifecycle';
import { localBrokerOptions } from './local-broker';
import { systemClock, systemTimers } from './system-clock';
import { HealthWatchdog, watchedServices, watchedUnits } from './watchdog';

interface WatchdogFlags {
  readonly configDir?: string;
  readonly unitsDir: string;
  readonly logLevel?: LogLevel;
  readonly debug?: boolean;
  readonly logFormat?: LogFormat;
}

const SERVICE = 'tedge-watchdog';

/** A unit file of `unitsDir` (thin-edge reads /lib/systemd/system); undefined when absent. */
function unitReader(unitsDir: string): (file: string) => string | undefined {
  return (file) => {
    try {
      return readFileSync(join(unitsDir, file), 'utf8');
    } catch {
      return undefined;
    }
  };
}

/** systemd-notify on behalf of a watched service (its unit needs NotifyAccess=all, as ours have). */
function notifyFor(env: NodeJS.ProcessEnv): (pid: number) => void {
  return (pid) => {
    spawn('systemd-notify', ['WATCHDOG=1', `--pid=${pid}`], { stdio: 'ignore', env: { NOTIFY_SOCKET: env['NOTIFY_SOCKET'], PATH: env['PATH'] ?? '/usr/bin:/bin' } }).on('error', () => {});
  };
}

/**
 * `tedge-watchdog` (thin-edge §4.5): for each tedge unit with WatchdogSec (and each connected cloud profile's mapper), a health check every
 * WatchdogSec/4 and WATCHDOG=1 for the pid of a fresh answer. Ends (exit 0) when no unit has WatchdogSec.
 */
export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let flags: WatchdogFlags;
  try {
    flags = new Command(SERVICE)
      .description("thin-edge's watchdog: asks each tedge service with WatchdogSec for its health and tells systemd it is alive when it answers in time")
      .option('--config-dir <dir>', 'configuration directory (env TEDGE_CONFIG_DIR, default /etc/tedge)')
      .option('--units-dir <dir>', 'where the systemd units are read for WatchdogSec', '/lib/systemd/system')
      .addOption(new Option('--log-level <level>', 'log level (default: [log] tedge-watchdog of system.toml, else info)').choices(LOG_LEVELS))
      .option('--debug', 'same as --log-level debug')
      .addOption(new Option('--log-format <format>', 'text or json (default: logs.format)').choices(LOG_FORMATS))
      .exitOverride()
      .parse([...argv], { from: 'user' })
      .opts<WatchdogFlags>();
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  const configDir = resolveConfigDir(flags.configDir, env);
  const logging = daemonLogging(SERVICE, flags, configDir, env);
  const { logger } = logging;
  const stopReloading = reloadOnHangup(process, logging);
  const stop = terminationSignal(process);
  try {
    const config = TedgeConfig.load(configDir, env);
    const root = config.string('mqtt.topic_root');
    const device = config.string('mqtt.device_topic_id').split('/')[1] ?? 'main';
    const services = watchedServices(watchedUnits(config), unitReader(flags.unitsDir), device);
    if (services.length === 0) {
      logger.warn(`no tedge unit in ${flags.unitsDir} has WatchdogSec: nothing to watch`);
      return 0;
    }
    const self = serviceTopicId(device, SERVICE);
    const broker = localBrokerOptions(config);
    const bus = await MqttBus.connect({ ...broker, clientId: `${SERVICE}#${root}/${config.string('mqtt.device_topic_id')}`, cleanSession: true, will: healthLastWill({ root, service: self }, process.pid), signal: stop });
    watchBrokerConnection(bus, logger, `${broker.host}:${broker.port}`);
    const timestampFormat = config.string('service.timestamp_format') === 'rfc-3339' ? 'rfc-3339' : 'unix';
    const health = new HealthReporter(bus, systemClock, { root, service: self, device: `device/${device}//`, timestampFormat }, process.pid);
    const watchdog = new HealthWatchdog({ bus, clock: systemClock, timers: systemTimers, logger, root, services, notify: notifyFor(env) });
    await new Lifecycle([{ name: 'bus', start: async () => {}, stop: () => bus.close() }, health, watchdog], logger).run(stop, process);
    return 0;
  } catch (err) {
    if (stop.aborted) return 0;
    process.stderr.write(`error: ${errorMessage(err)}\n`);
    return 1;
  } finally {
    stopReloading();
  }
}
