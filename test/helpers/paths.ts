import { join } from 'node:path';

/** The repository root (tests run from dist/test/...). */
export const REPO_ROOT = join(__dirname, '..', '..', '..');
/** ../shared beside the repository, as on developer machines and in CI. */
export const SHARED_DIR = process.env['TEDGE_SHARED_DIR'] ?? join(REPO_ROOT, '..', 'shared');
export const MEASUREMENT_FIXTURES = join(SHARED_DIR, 'fixtures', 'thin-edge-measurements');
