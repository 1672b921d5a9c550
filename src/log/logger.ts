import { writeSync } from 'node:fs';
import pino from 'pino';
import { formatLogLine } from './text-format';

export type Logger = pino.Logger;
export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';
export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug', 'trace'];
/** `text`: one readable line per record (the default, what journald shows); `json`: pino's JSON lines. */
export type LogFormat = 'text' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

export function isLogLevel(value: string): value is LogLevel {
  return LOG_LEVELS.some((l) => l === value);
}

export interface LoggerOptions {
  readonly name: string;
  readonly level?: LogLevel;
  readonly format?: LogFormat;
  /** Text lines only: false under systemd, whose journal stamps every line already. Default true. */
  readonly timestamps?: boolean;
  /** Where lines go; default stderr, written synchronously. Tests pass a collector. */
  readonly write?: (line: string) => void;
}

/** Every logger of a tree, so that a new level reaches children made before it (pino copies the level at child()). */
const TREES = new WeakMap<Logger, Array<WeakRef<Logger>>>();

/**
 * The root logger of a daemon, written synchronously so nothing is lost at a power cut or kill.
 * Components get `logger.child({ component })`. pino stays the API (levels, children, fields, cheap
 * disabled levels); the text lines come from a destination of ours rather than pino-pretty, which
 * would run in a worker thread and could lose the last lines of a crashing daemon.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const write = opts.write ?? ((line: string) => writeSync(2, line));
  const timestamps = opts.timestamps ?? true;
  const destination =
    (opts.format ?? 'text') === 'json'
      ? { write }
      : { write: (json: string) => write(formatLogLine(JSON.parse(json) as Record<string, unknown>, { timestamps })) };
  const tree: Array<WeakRef<Logger>> = [];
  const root = pino(
    {
      name: opts.name,
      level: opts.level ?? 'info',
      base: { pid: process.pid },
      onChild: (child) => {
        // Children are made per component, not per message; still, forget the collected ones now and then.
        if (tree.length >= 64 && tree.length % 64 === 0) tree.splice(0, tree.length, ...tree.filter((r) => r.deref() !== undefined));
        tree.push(new WeakRef(child));
        TREES.set(child, tree);
      },
    },
    opts.write === undefined && opts.format === 'json' ? pino.destination({ dest: 2, sync: true }) : destination,
  );
  tree.push(new WeakRef(root));
  TREES.set(root, tree);
  return root;
}

/** Sets the level of `logger`'s whole tree: its root and every child made so far (SIGHUP reload). */
export function setLogLevel(logger: Logger, level: LogLevel): void {
  const tree = TREES.get(logger);
  if (tree === undefined) {
    logger.level = level;
    return;
  }
  for (const ref of tree) {
    const l = ref.deref();
    if (l !== undefined) l.level = level;
  }
}

/** For tests and commands that must stay quiet. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
