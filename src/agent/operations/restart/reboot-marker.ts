import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../../certs/files';
import { isJsonObject, parseJson } from '../../../core/json';

/**
 * The note the agent leaves under run.path (a tmpfs, `/run`) before it reboots the device. A reboot
 * clears /run, so a marker still there at the next start means only the agent restarted; on a
 * system whose run.path survives reboots the boot time tells instead (see `rebootedSince`).
 */
export const MARKER_FILE = 'tedge_agent_restart';

export interface RebootMarker {
  readonly cmdId: string;
  readonly requestedAt: Date;
}

export function markerPath(runDir: string): string {
  return join(runDir, MARKER_FILE);
}

export function writeMarker(runDir: string, marker: RebootMarker): void {
  writeFileAtomic(markerPath(runDir), `${JSON.stringify({ cmdId: marker.cmdId, requestedAt: marker.requestedAt.toISOString() })}\n`, 0o644);
}

/** The marker; undefined when there is none. An unreadable one is still there, so the device did not reboot. */
export function readMarker(runDir: string): RebootMarker | 'unreadable' | undefined {
  let text: string;
  try {
    text = readFileSync(markerPath(runDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return 'unreadable';
  }
  try {
    const v = parseJson(text);
    if (!isJsonObject(v) || typeof v['cmdId'] !== 'string' || typeof v['requestedAt'] !== 'string') return 'unreadable';
    const requestedAt = new Date(v['requestedAt']);
    return Number.isNaN(requestedAt.getTime()) ? 'unreadable' : { cmdId: v['cmdId'], requestedAt };
  } catch {
    return 'unreadable';
  }
}

export function removeMarker(runDir: string): void {
  rmSync(markerPath(runDir), { force: true });
}

/** When the system booted, from `btime` of /proc/stat (Linux); undefined elsewhere. */
export function systemBootTime(procStat = '/proc/stat'): Date | undefined {
  try {
    const m = /^btime\s+(\d+)$/m.exec(readFileSync(procStat, 'utf8'));
    return m?.[1] === undefined ? undefined : new Date(Number(m[1]) * 1000);
  } catch {
    return undefined;
  }
}
