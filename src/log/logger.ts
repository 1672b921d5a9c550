import pino from 'pino';

export type Logger = pino.Logger;
export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * The root logger of a daemon: JSON lines on stderr, written synchronously so nothing is lost
 * at a power cut or kill. Components get `logger.child({ component })`.
 */
export function createLogger(opts: { name: string; level?: LogLevel }): Logger {
  return pino({ name: opts.name, level: opts.level ?? 'info', base: { pid: process.pid } }, pino.destination({ dest: 2, sync: true }));
}

/** For tests and commands that must stay quiet. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
