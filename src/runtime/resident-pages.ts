import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Timers } from '../core/clock';
import type { Logger } from '../log/logger';

/**
 * Gives the kernel back the clean pages of the executable that start-up touched (native/core/resident_pages.h):
 * about half the idle RSS of `tedge run all` is the Node binary's own code and read-only data, resident only
 * because something once ran it. Released once the components are up; then, checked every `checkEveryMs`,
 * again whenever those pages have grown back by `regrowthBytes` (a burst ran code that idle does not) and
 * the process is quiet again. Released pages come back from the file on their next use: the cost is page
 * faults (measured in packaging/README.md), paid once per burst, not per check.
 */

export interface ResidentRelease {
  readonly mappings: number;
  readonly bytes: number;
  /** errno of the first madvise that failed; EINVAL: the kernel has no MADV_PAGEOUT (Linux < 5.4). */
  readonly error: number;
  readonly trimmed: boolean;
}

/** The addon's releaseResidentPages (src/native/binding.ts). */
export type ReleaseResidentPages = (advice: 'pageout' | 'cold', trimMalloc: boolean) => ResidentRelease;

export interface ResidentPagesOptions {
  readonly release: ReleaseResidentPages;
  readonly timers: Timers;
  readonly logger: Logger;
  /** Resident file-backed bytes of the process now (RssFile of /proc/self/status). */
  readonly residentFileBytes: () => number;
  /** Whether the process was busy since the previous call (event-loop utilization). */
  readonly busySinceLastCall: () => boolean;
  /** After the components are up: connections made, retained messages received. */
  readonly firstAfterMs: number;
  readonly checkEveryMs: number;
  readonly regrowthBytes: number;
}

const EINVAL = 22;
const MiB = 1024 * 1024;

/** Schedules the releases; returns the function that cancels them. */
export function scheduleResidentPageRelease(opts: ResidentPagesOptions): () => void {
  const { release, timers, logger } = opts;
  let cancel: (() => void) | undefined;
  let afterLastRelease = 0;
  let releases = 0;
  const releaseNow = (): boolean => {
    const before = opts.residentFileBytes();
    const r = release('pageout', true);
    if (r.error === EINVAL && r.mappings === 0) {
      logger.info('resident pages not released: the kernel has no MADV_PAGEOUT (Linux < 5.4)');
      return false;
    }
    afterLastRelease = opts.residentFileBytes();
    const fields = { mappings: r.mappings, fileBackedMiB: [before, afterLastRelease].map((b) => Math.round(b / MiB)), error: r.error || undefined };
    if (releases++ === 0) logger.info(fields, 'clean pages of the executable released to the kernel');
    else logger.debug(fields, 'clean pages released again');
    return true;
  };
  const check = (): void => {
    const busy = opts.busySinceLastCall();
    if (!busy && opts.residentFileBytes() - afterLastRelease >= opts.regrowthBytes && !releaseNow()) return;
    cancel = timers.after(opts.checkEveryMs, check);
  };
  cancel = timers.after(opts.firstAfterMs, () => {
    opts.busySinceLastCall();
    if (releaseNow()) cancel = timers.after(opts.checkEveryMs, check);
  });
  return () => cancel?.();
}

/** RssFile of /proc/self/status, in bytes (0 where there is no procfs). Cheap: no page-table walk. */
export function processResidentFileBytes(): number {
  try {
    const kb = /^RssFile:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'latin1'))?.[1];
    return kb === undefined ? 0 : Number(kb) * 1024;
  } catch {
    return 0;
  }
}

/** Busy: the event loop was not idle for more than `share` of the time since the previous call. */
export function eventLoopBusy(share = 0.05): () => boolean {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const since = performance.eventLoopUtilization(now, last);
    last = now;
    return since.utilization > share;
  };
}
