import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TedgeConfig } from '../config/tedge-config';
import { TedgeError, errorMessage } from '../core/errors';
import { parseToml } from '../config/toml';
import { type LogFormat, type LogLevel, type Logger, createLogger, isLogLevel, setLogLevel } from './logger';

/** What a daemon's command line says about logging; absent = not given. */
export interface LogFlags {
  readonly logLevel?: LogLevel;
  readonly debug?: boolean;
  readonly logFormat?: LogFormat;
}

/**
 * The level `[log]` of system.toml gives a service, as thin-edge reads it: the service's own entry
 * (`tedge-agent = "debug"`), then `tedge-mapper` for any `tedge-mapper-<cloud>`, then `tedge` for all;
 * undefined when none applies. Levels are case-insensitive; an unknown one is CONFIG_INVALID_VALUE.
 */
export function levelFromSystemToml(table: Readonly<Record<string, unknown>>, service: string, source: string): LogLevel | undefined {
  const log = table['log'];
  if (log === undefined) return undefined;
  if (typeof log !== 'object' || log === null || Array.isArray(log)) throw new TedgeError('CONFIG_INVALID_VALUE', `${source}: [log] must be a table of service = "level"`);
  const entries = log as Record<string, unknown>;
  const names = [service, ...(service.startsWith('tedge-mapper-') ? ['tedge-mapper'] : []), 'tedge'];
  for (const name of names) {
    const value = entries[name];
    if (value === undefined) continue;
    const level = String(value).toLowerCase();
    if (!isLogLevel(level)) throw new TedgeError('CONFIG_INVALID_VALUE', `${source}: [log] ${name} = "${String(value)}" is not a log level (error, warn, info, debug, trace)`);
    return level;
  }
  return undefined;
}

/** Reads `<config-dir>/system.toml`; a missing file configures nothing. */
export function readSystemLogLevel(configDir: string, service: string): LogLevel | undefined {
  const path = join(configDir, 'system.toml');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TedgeError('CONFIG_FILE', `cannot read ${path}: ${errorMessage(err)}`, { cause: err });
  }
  return levelFromSystemToml(parseToml(text, path), service, path);
}

/** `--log-format`, else the `logs.format` key (file or TEDGE_LOGS_FORMAT); a config that does not load is the daemon's to report. */
function logFormat(flags: LogFlags, configDir: string, env: Readonly<Record<string, string | undefined>>): LogFormat {
  if (flags.logFormat !== undefined) return flags.logFormat;
  try {
    return TedgeConfig.load(configDir, env).string('logs.format') === 'json' ? 'json' : 'text';
  } catch {
    return 'text';
  }
}

export interface DaemonLogging {
  readonly logger: Logger;
  readonly format: LogFormat;
  /** Reads system.toml again and applies its level (SIGHUP); flags given at start stay in force. */
  reload(): void;
}

/**
 * A daemon's logger with thin-edge's precedence: `--log-level`/`--debug`, then system.toml `[log]`, then
 * info. A system.toml that cannot be read does not stop the daemon: it runs at info and says why.
 */
export function daemonLogging(service: string, flags: LogFlags, configDir: string, env: Readonly<Record<string, string | undefined>>): DaemonLogging {
  const fixed = flags.logLevel ?? (flags.debug === true ? 'debug' : undefined);
  let problem: string | undefined;
  let level: LogLevel = 'info';
  if (fixed !== undefined) level = fixed;
  else {
    try {
      level = readSystemLogLevel(configDir, service) ?? 'info';
    } catch (err) {
      problem = errorMessage(err);
    }
  }
  // INVOCATION_ID is set by systemd for a unit's processes: journald stamps the lines itself.
  const format = logFormat(flags, configDir, env);
  const logger = createLogger({ name: service, level, format, timestamps: env['INVOCATION_ID'] === undefined });
  if (problem !== undefined) logger.warn(`log level from system.toml not used (running at info): ${problem}`);
  return {
    logger,
    format,
    reload(): void {
      if (fixed !== undefined) {
        logger.info(`SIGHUP: the log level stays ${fixed}, as given on the command line`);
        return;
      }
      let next: LogLevel;
      try {
        next = readSystemLogLevel(configDir, service) ?? 'info';
      } catch (err) {
        logger.warn(`SIGHUP: log level kept at ${String(logger.level)}: ${errorMessage(err)}`);
        return;
      }
      setLogLevel(logger, next);
      logger.info(`SIGHUP: log level is now ${next} (from system.toml)`);
    },
  };
}

/** Reloads on SIGHUP until the returned function is called (a daemon's main, around its run). */
export function reloadOnHangup(proc: Pick<NodeJS.Process, 'on' | 'off'>, logging: DaemonLogging): () => void {
  const onHangup = (): void => logging.reload();
  proc.on('SIGHUP', onHangup);
  return () => proc.off('SIGHUP', onHangup);
}
