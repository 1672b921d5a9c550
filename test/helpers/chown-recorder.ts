import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A `chown` first on PATH that records its arguments instead: the maintainer scripts chown to the tedge user,
 * which exists only on the device (or under Yocto's pseudo), not where the tests run.
 */
export function chownRecorder(dir: string): { path: string; calls: () => string } {
  const bin = join(dir, 'chown-recorder');
  const log = join(dir, 'chown-calls.log');
  mkdirSync(bin, { recursive: true });
  writeFileSync(log, '');
  writeFileSync(join(bin, 'chown'), `#!/bin/sh\necho "chown $*" >>"${log}"\n`, { mode: 0o755 });
  return { path: `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}`, calls: () => readFileSync(log, 'utf8') };
}
