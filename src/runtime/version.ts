import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Replaced by the version string when bundled (esbuild --define, scripts/package.sh); absent under tsc. */
declare const __TEDGE_VERSION__: string | undefined;

/**
 * The version of tedge-ts: baked in by the bundler for the single executable (there is no package.json
 * beside it), else read from package.json at the repository root (tsc output runs from dist/src/...).
 */
export function tedgeVersion(): string {
  if (typeof __TEDGE_VERSION__ === 'string') return __TEDGE_VERSION__;
  // Only for runs from the tsc output (tests, development), never in the packaged executable (returned
  // above): lets a test play a self-update by restarting the agent "as another version".
  const override = process.env['TEDGE_TS_VERSION_OVERRIDE'];
  if (override !== undefined && override !== '') return override;
  try {
    const pkg: unknown = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
    if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') return pkg.version;
  } catch {
    // fall through
  }
  return 'unknown';
}
