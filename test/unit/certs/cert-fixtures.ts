import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { TedgeConfig } from '../../../src/config/tedge-config';
import { TedgeError } from '../../../src/core/errors';
import type { ErrorCode } from '../../../src/core/errors';
import { createSelfSignedCertificate } from '../../../src/certs/self-signed';

/** Shared by the certificate tests: a config dir in a temp dir, fixed instants, quick certificates. */

export const DAY_MS = 24 * 3600 * 1000;
export const NOW = new Date('2030-06-15T12:00:00Z');

export function tempConfigDir(prefix: string): { dir: string; config: () => TedgeConfig; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `tedge-${prefix}-`));
  return { dir, config: () => TedgeConfig.load(dir), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function selfSigned(privateKey: KeyObject, deviceId = 'dev-1', now = NOW, validityMs = 365 * DAY_MS): Promise<string> {
  return createSelfSignedCertificate({ subject: { deviceId, organization: 'Thin Edge', organizationUnit: 'Device' }, privateKey, validityMs, now });
}

/** Asserts a TedgeError with this code and a one-line message matching `pattern`. */
export function isCertError(code: ErrorCode, pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    if (!(e instanceof TedgeError)) throw new Error(`expected a TedgeError, got ${String(e)}`);
    if (e.code !== code) throw new Error(`expected ${code}, got ${e.code}: ${e.message}`);
    if (e.message.includes('\n')) throw new Error(`expected one line, got: ${e.message}`);
    if (!pattern.test(e.message)) throw new Error(`expected ${String(pattern)}, got: ${e.message}`);
    return true;
  };
}
