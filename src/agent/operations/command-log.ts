import { appendFileSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../core/clock';

/**
 * One log file per command, as thin-edge: `<logs.path>/agent/workflow-<op>-<id>.log`, so an operator
 * (or a log_upload of type `workflow-<op>`) finds what a command did. When a command's log is opened
 * the oldest logs of the same operation beyond `maxPerOperation` are removed (logs.max_per_operation).
 * Writing is best effort: a full disk must not fail the command it describes.
 */
export class CommandLogs {
  constructor(
    readonly dir: string,
    private readonly maxPerOperation: number,
    private readonly clock: Clock,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  fileOf(operation: string, cmdId: string): string {
    return join(this.dir, `${prefix(operation)}${cmdId}.log`);
  }

  /** Creates the log of a new command (keeping an existing one) and applies the retention. */
  open(operation: string, cmdId: string): void {
    try {
      mkdirSync(this.dir, { recursive: true });
      appendFileSync(this.fileOf(operation, cmdId), '');
      this.prune(operation, cmdId);
    } catch (err) {
      this.onError(err);
    }
  }

  append(operation: string, cmdId: string, line: string): void {
    try {
      mkdirSync(this.dir, { recursive: true });
      appendFileSync(this.fileOf(operation, cmdId), `${this.clock.now().toISOString()} ${line.replace(/\n+$/, '')}\n`);
    } catch (err) {
      this.onError(err);
    }
  }

  /** Keeps the newest `maxPerOperation` logs of the operation, always including the current one. */
  private prune(operation: string, current: string): void {
    const keep = Math.max(1, this.maxPerOperation);
    const mine = `${prefix(operation)}${current}.log`;
    const logs = readdirSync(this.dir)
      .filter((n) => n.startsWith(prefix(operation)) && n.endsWith('.log') && n !== mine)
      .map((n) => ({ n, mtime: statSync(join(this.dir, n)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime || (a.n < b.n ? 1 : -1));
    for (const old of logs.slice(keep - 1)) rmSync(join(this.dir, old.n), { force: true });
  }
}

function prefix(operation: string): string {
  return `workflow-${operation}-`;
}
