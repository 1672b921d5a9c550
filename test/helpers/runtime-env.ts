import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './paths';

/** packaging/runtime.env: the runtime flags of the shipped executable, one place for units, benchmarks and tests. */
export const RUNTIME_ENV_FILE = join(REPO_ROOT, 'packaging', 'runtime.env');

/**
 * The variables of an EnvironmentFile (systemd.exec): KEY=VALUE lines, `#` comments, a value optionally in
 * double quotes. Only what the file uses is supported (no escapes, no line continuations): anything else throws.
 */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Z_][A-Z0-9_]*)=(?:"([^"\\]*)"|([^"\\\s]*))$/.exec(line);
    if (!m?.[1]) throw new Error(`line ${i + 1}: not KEY=VALUE or KEY="VALUE": ${raw}`);
    env[m[1]] = m[2] ?? m[3] ?? '';
  }
  return env;
}

export function runtimeEnvironment(): Record<string, string> {
  return parseEnvironmentFile(readFileSync(RUNTIME_ENV_FILE, 'utf8'));
}
