import type { JsonObject } from '../../../core/json';
import { type OperationRef, executingLine, failedLine } from './status';

/**
 * A command that waits for a tenant binary: the mapper first copies `url` (on the tenant, so it needs the
 * device's credentials) into the file transfer service at `path`, then publishes the command with
 * `tedgeUrl` pointing there, so the agent never needs cloud credentials. A failed copy fails the operation.
 */
export interface PrefetchJob {
  readonly url: string;
  /** Relative to `/te/v1/files/`: `<xid>/<op>/<name>-<cmd id>`. */
  readonly path: string;
  readonly commandTopic: string;
  /** The `init` payload; `tedgeUrl` is set to the copy (kept as is when no copy can be made). */
  readonly body: JsonObject;
  readonly ref: OperationRef | undefined;
  readonly smartrestTopic: string;
}

/** The Cumulocity operations of thin-edge that carry one tenant binary for the agent: the URL field of the fragment. */
export const PREFETCHED: Readonly<Record<string, 'config_update' | 'firmware_update'>> = {
  c8y_DownloadConfigFile: 'config_update',
  c8y_Firmware: 'firmware_update',
};

/** The name of the copy: the config type or firmware name, `/` made `:` as for uploads. */
export function prefetchPath(externalId: string, operation: string, name: string, cmdId: string): string {
  return `${externalId}/${operation}/${name.replace(/\//g, ':')}-${cmdId}`;
}

/** The command to publish once the copy is at `tedgeUrl`. */
export function prefetchedBody(job: PrefetchJob, tedgeUrl: string): JsonObject {
  return { ...job.body, tedgeUrl };
}

/** 504 and 505 with the reason when the binary could not be copied: the agent is never asked. */
export function prefetchFailedLines(job: PrefetchJob, reason: string): string[] {
  return job.ref === undefined ? [] : [executingLine(job.ref), failedLine(job.ref, `Failed to download ${job.url}: ${reason}`)];
}
