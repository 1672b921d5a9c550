import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PathsWatch, fingerprint } from '../../../runtime/paths-watch';
import type { Service } from '../../../runtime/service';

function subdirectories(root: string): string[] {
  try {
    return readdirSync(root)
      .map((n) => join(root, n))
      .filter((p) => {
        try {
          return statSync(p).isDirectory();
        } catch {
          return false;
        }
      });
  } catch {
    return [];
  }
}

/**
 * Watches `<config-dir>/operations/c8y/` and its per-device sub-directories; on a change it raises the
 * mapper's own `sync` signal, so the converter re-reads the directory and announces the 114s again, as
 * thin-edge does when an operation file is added or removed.
 */
export class OperationsDirWatch implements Service {
  readonly name = 'c8y-operations-directory';
  private watch: PathsWatch | undefined;

  constructor(
    private readonly root: string,
    private readonly onChange: () => void,
    private readonly pollMs = 5000,
  ) {}

  async start(): Promise<void> {
    const paths = (): string[] => [this.root, ...subdirectories(this.root)];
    this.watch = new PathsWatch(paths(), this.onChange, this.pollMs, () => fingerprint(paths()));
    this.watch.start();
    await Promise.resolve();
  }

  async stop(): Promise<void> {
    this.watch?.stop();
    await Promise.resolve();
  }
}
