import type { Timers } from '../core/clock';
import type { Logger } from '../log/logger';

/**
 * Gives the kernel back the clean pages of the executable that start-up touched (native/core/resident_pages.h):
 * about half the idle RSS of `tedge run all` is the Node binary's own code and read-only data, resident only
 * because something once ran it. Released once the components are up, then again every `everyMs`, so that
 * what a burst faulted in does not stay resident for the rest of the uptime. Pages come back from the file on
 * their next use (page faults: packaging/README.md has their measured cost).
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
  /** After the components are up: connections made, retained messages received. */
  readonly firstAfterMs: number;
  /** 0: once only. */
  readonly everyMs: number;
}

const EINVAL = 22;

/** Schedules the releases; returns the function that cancels them. */
export function scheduleResidentPageRelease(opts: ResidentPagesOptions): () => void {
  const { release, timers, logger } = opts;
  let cancel: (() => void) | undefined;
  let first = true;
  const run = (): void => {
    cancel = undefined;
    const r = release('pageout', true);
    if (r.error === EINVAL && r.mappings === 0) {
      logger.info('resident pages not released: the kernel has no MADV_PAGEOUT (Linux < 5.4)');
      return;
    }
    const fields = { mappings: r.mappings, mappedMiB: Math.round(r.bytes / 1048576), error: r.error || undefined, mallocTrimmed: r.trimmed };
    if (first) logger.info(fields, 'clean pages of the executable released to the kernel');
    else logger.debug(fields, 'clean pages released again');
    first = false;
    if (opts.everyMs > 0) cancel = timers.after(opts.everyMs, run);
  };
  cancel = timers.after(opts.firstAfterMs, run);
  return () => cancel?.();
}
