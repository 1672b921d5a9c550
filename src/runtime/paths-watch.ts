import { type FSWatcher, readdirSync, statSync, watch } from 'node:fs';
import { dirname, join } from 'node:path';

/** Names, sizes, modes and times of the paths (and of a directory's entries): changes with any edit. */
export function fingerprint(paths: readonly string[]): string {
  const parts: string[] = [];
  for (const p of paths) {
    try {
      const st = statSync(p);
      parts.push(`${p}:${st.size}:${st.mode}:${st.mtimeMs}`);
      if (st.isDirectory()) {
        for (const name of readdirSync(p).sort()) {
          try {
            const e = statSync(join(p, name));
            parts.push(`${name}:${e.size}:${e.mode}:${e.mtimeMs}`);
          } catch {
            parts.push(`${name}:gone`);
          }
        }
      }
    } catch {
      parts.push(`${p}:absent`);
    }
  }
  return parts.join('|');
}

/**
 * Calls `onChange` when a watched file or directory (plugin toml, plugin directories, sm-plugins) changes: fs.watch
 * on each path's directory for a quick reaction, and a slow poll for what inotify misses (a directory
 * created later, a link retargeted, file systems without events).
 */
export class PathsWatch {
  private readonly watchers = new Map<string, FSWatcher>();
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private last: string;

  constructor(
    private readonly paths: readonly string[],
    private readonly onChange: () => void,
    private readonly pollMs = 5000,
    /** What counts as a change; by default any edit of the paths or of a directory's entries. */
    private readonly fingerprintOf: () => string = () => fingerprint(paths),
  ) {
    this.last = fingerprintOf();
  }

  start(): void {
    this.arm();
    this.poll = setInterval(() => this.check(), this.pollMs);
    this.poll.unref();
  }

  stop(): void {
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  private arm(): void {
    for (const path of new Set(this.paths.flatMap((p) => [p, dirname(p)]))) {
      if (this.watchers.has(path)) continue;
      try {
        const w = watch(path, { persistent: false }, () => this.soon());
        w.on('error', () => {
          w.close();
          this.watchers.delete(path);
        });
        this.watchers.set(path, w);
      } catch {
        // not there (yet): the poll re-arms
      }
    }
  }

  private soon(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.check(), 200);
  }

  private check(): void {
    this.arm();
    const now = this.fingerprintOf();
    if (now === this.last) return;
    this.last = now;
    this.onChange();
  }
}
