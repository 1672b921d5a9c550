import { type FSWatcher, statSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import { pluginFiles } from './plugins';

/** Names, sizes, modes and times of the plugin files: changes when a plugin is added, removed or replaced. */
export function pluginFingerprint(dir: string): string {
  return pluginFiles(dir)
    .map((p) => {
      try {
        const st = statSync(p.path);
        return `${p.type}:${st.size}:${st.mode}:${st.mtimeMs}`;
      } catch {
        return `${p.type}:gone`;
      }
    })
    .join('|');
}

/**
 * Calls `onChange` when the plugin directory changes. fs.watch gives a quick reaction (on the directory
 * and on its parent, for the directory being created or removed); a slow poll catches what inotify
 * misses (a directory replaced, a link retargeted, file systems without events).
 */
export class PluginDirWatch {
  private readonly watchers = new Map<string, FSWatcher>();
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private last: string;

  constructor(
    private readonly dir: string,
    private readonly onChange: () => void,
    private readonly pollMs = 5000,
  ) {
    this.last = pluginFingerprint(dir);
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
    for (const path of [this.dir, dirname(this.dir)]) {
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
    const now = pluginFingerprint(this.dir);
    if (now === this.last) return;
    this.last = now;
    this.onChange();
  }
}
