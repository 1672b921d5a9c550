import type { ModuleUpdate } from './modules';

/**
 * The pure side of calling a plugin (thin-edge's software-management-plugin-api): the argv of the
 * per-module commands, the stdin of `update-list`, and what an exit status means.
 */

/** `install NAME [--module-version V] [--file PATH]` / `remove NAME [--module-version V]`. */
export function moduleArgs(update: ModuleUpdate): string[] {
  const args = [update.action, update.name];
  if (update.version !== undefined) args.push('--module-version', update.version);
  if (update.action === 'install' && update.file !== undefined) args.push('--file', update.file);
  return args;
}

/** One line per module: `install\tname\tversion\tpath` / `remove\tname\tversion\t` (empty fields kept). */
export function renderUpdateList(updates: readonly ModuleUpdate[]): string {
  return updates
    .map((u) => (u.action === 'install' ? `install\t${u.name}\t${u.version ?? ''}\t${u.file ?? ''}\n` : `remove\t${u.name}\t${u.version ?? ''}\t\n`))
    .join('');
}

/** How a plugin call ended, before it is given a meaning. */
export type PluginExit =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'signalled'; readonly signal: string }
  /** Killed by the agent after software.plugin.timeout. */
  | { readonly kind: 'timeout'; readonly afterMs: number }
  /** Killed because the agent is stopping. */
  | { readonly kind: 'aborted' }
  /** Could not be started at all (ENOENT, EACCES…). */
  | { readonly kind: 'spawn-error'; readonly message: string };

/** The protocol's exit codes: 0 success, 1 usage, 2 failure, 3 retry, 4 timeout. */
export type PluginVerdict = 'success' | 'usage' | 'failure' | 'retry' | 'timeout';

export function verdictOf(exit: PluginExit): PluginVerdict {
  switch (exit.kind) {
    case 'exited':
      switch (exit.code) {
        case 0:
          return 'success';
        case 1:
          return 'usage';
        case 3:
          return 'retry';
        case 4:
          return 'timeout';
        default:
          return 'failure';
      }
    case 'timeout':
      return 'timeout';
    case 'signalled':
    case 'aborted':
    case 'spawn-error':
      return 'failure';
  }
}

/** Why a call did not succeed, in one phrase; `stderr` (trimmed, bounded) appended when there is any. */
export function describeExit(exit: PluginExit, stderr: string): string {
  let what: string;
  switch (exit.kind) {
    case 'exited':
      what = `exit status ${exit.code} (${verdictOf(exit)})`;
      break;
    case 'signalled':
      what = `killed by ${exit.signal}`;
      break;
    case 'timeout':
      what = `timed out after ${Math.round(exit.afterMs / 1000)}s and was killed (software.plugin.timeout)`;
      break;
    case 'aborted':
      what = 'interrupted: the agent is stopping';
      break;
    case 'spawn-error':
      what = `cannot be run: ${exit.message}`;
      break;
  }
  const detail = stderrSummary(stderr);
  return detail === '' ? what : `${what}: ${detail}`;
}

const MAX_REASON = 2000;

/** The plugin's stderr as a reason: trimmed, at most MAX_REASON characters (the tail, where errors are). */
export function stderrSummary(stderr: string): string {
  const text = stderr.trim();
  return text.length <= MAX_REASON ? text : `…${text.slice(text.length - MAX_REASON)}`;
}
