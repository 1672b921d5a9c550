import { constants, createReadStream, createWriteStream, statSync } from 'node:fs';
import { access } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { basename } from 'node:path';
import { finished } from 'node:stream/promises';
import { expandGlob } from './glob';
import type { LogCallControl, LogPlugin, LogWindow } from './log-plugin';
import type { LogFileEntry } from './log-toml';

/** A file a type covers, with its modification time (epoch seconds). */
export interface LogFile {
  readonly path: string;
  readonly mtime: number;
}

/**
 * Pure: the files of a request. A file last modified before `since` holds nothing newer and is left out
 * (`until` cannot be applied to a file: it may hold older lines too). Oldest first, so that the tail
 * (`lines`) the agent keeps is the newest part (thin-edge sorts newest first; its tail then shows the
 * oldest file's end).
 */
export function selectLogFiles(files: readonly LogFile[], window: LogWindow): LogFile[] {
  return files.filter((f) => window.since === undefined || f.mtime >= window.since).sort((a, b) => a.mtime - b.mtime || a.path.localeCompare(b.path));
}

/**
 * The built-in `file` log plugin (thin-edge's tedge-file-log-plugin, in-process): the globs of
 * tedge-log-plugin.toml. The content of each file is preceded by a `filename: <name>` line, as in thin-edge.
 */
export class FileLogPlugin implements LogPlugin {
  readonly name = 'file';

  constructor(
    private readonly entries: readonly LogFileEntry[],
    /** Set when sudo is enabled and present: how to read what the agent may not. */
    private readonly elevatedGet?: (type: string, window: LogWindow, dest: string, ctl: LogCallControl) => Promise<void>,
  ) {}

  list(): Promise<string[]> {
    return Promise.resolve([...new Set(this.entries.map((e) => e.type))]);
  }

  async get(type: string, window: LogWindow, dest: string, ctl: LogCallControl): Promise<void> {
    const files = this.files(type, window);
    try {
      // Readable by the agent: read in-process. Otherwise (a root-only log, agent user `tedge`) the same
      // plugin run by `sudo tedge file-log-plugin get`, as thin-edge runs its file plugin through sudo.
      for (const f of files) await access(f.path, constants.R_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code === 'EACCES' || code === 'EPERM') && this.elevatedGet !== undefined) {
        ctl.log?.(`${(e as Error).message}: reading type ${type} through sudo`);
        return this.elevatedGet(type, window, dest, ctl);
      }
      throw e;
    }
    const out = createWriteStream(dest);
    try {
      await this.writeTo(files, out, ctl);
    } finally {
      out.end();
      await finished(out);
    }
  }

  /** The files of a type for a window; an error naming the patterns when there are none. */
  files(type: string, window: LogWindow): LogFile[] {
    const patterns = this.entries.filter((e) => e.type === type).map((e) => e.path);
    if (patterns.length === 0) throw new Error(`unknown log type '${type}'`);
    const found: LogFile[] = [];
    for (const path of new Set(patterns.flatMap(expandGlob))) {
      try {
        found.push({ path, mtime: Math.floor(statSync(path).mtimeMs / 1000) });
      } catch {
        // gone since the glob
      }
    }
    const files = selectLogFiles(found, window);
    if (files.length === 0) throw new Error(`no log files for type '${type}' (${patterns.join(', ')})${window.since !== undefined && found.length > 0 ? ` modified since ${new Date(window.since * 1000).toISOString()}` : ''}`);
    return files;
  }

  /** Each file preceded by its `filename:` line, a newline added where a file lacks the last one. */
  async writeTo(files: readonly LogFile[], out: Writable, ctl: LogCallControl): Promise<void> {
    for (const f of files) {
      ctl.log?.(`reading ${f.path}`);
      out.write(`filename: ${basename(f.path)}\n`);
      let last = '\n';
      for await (const chunk of createReadStream(f.path)) {
        const b = chunk as Buffer;
        if (b.length > 0) last = String.fromCharCode(b[b.length - 1] ?? 10);
        if (!out.write(b)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
      if (last !== '\n') out.write('\n');
    }
  }
}
