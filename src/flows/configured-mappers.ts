import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isUserMapperName } from './local-mapper';

/** Directories under `<config-dir>/mappers/` that belong to the built-in mappers (and their profiles). */
const BUILT_IN = ['c8y', 'az', 'aws', 'collectd'];

function isBuiltInDir(name: string): boolean {
  return BUILT_IN.some((cloud) => name === cloud || name.startsWith(`${cloud}.`));
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The mappers of `<config-dir>/mappers/` that are not built-in and have something to run: a directory with a
 * `mapper.toml` or a `flows/` subdirectory (`tedge mapper list` shows every directory, see mapper-inventory.ts). `local` only with its `flows/`
 * (it has no cloud). Names thin-edge refuses (`[a-z][a-z0-9-]*`, not `bridge-*`) are skipped and reported.
 */
export function configuredUserMappers(configDir: string): { readonly names: readonly string[]; readonly skipped: readonly string[] } {
  const root = join(configDir, 'mappers');
  if (!isDir(root)) return { names: [], skipped: [] };
  const names: string[] = [];
  const skipped: string[] = [];
  for (const entry of readdirSync(root).sort()) {
    const dir = join(root, entry);
    if (isBuiltInDir(entry) || !isDir(dir)) continue;
    const hasFlows = isDir(join(dir, 'flows'));
    const configured = entry === 'local' ? hasFlows : hasFlows || existsSync(join(dir, 'mapper.toml'));
    if (!configured) continue;
    if (isUserMapperName(entry)) names.push(entry);
    else skipped.push(entry);
  }
  return { names, skipped };
}
