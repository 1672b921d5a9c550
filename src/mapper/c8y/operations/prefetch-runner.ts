import { errorMessage } from '../../../core/errors';
import { type Message, message } from '../../../core/message';
import type { Logger } from '../../../log/logger';
import { type PrefetchJob, prefetchFailedLines, prefetchedBody } from './prefetch';

/** The HTTP side's copy of a URL into the file transfer service: the URL of the copy there. */
export type Downloader = (url: string, path: string) => Promise<string>;

/**
 * Runs prefetch jobs with the HTTP side's `downloadToFileTransfer`, then publishes the command (or the
 * failure). Without a downloader (no HTTP side: c8y.url unset) the command goes out as it was built,
 * its URL rewritten to the local proxy.
 */
export class PrefetchRunner {
  private downloader: Downloader | undefined;

  constructor(
    private readonly publish: (msgs: readonly Message[]) => void,
    private readonly logger: Logger,
  ) {}

  setDownloader(d: Downloader | undefined): void {
    this.downloader = d;
  }

  submit(job: PrefetchJob): void {
    const download = this.downloader;
    const command = (body: object): Message => message(job.commandTopic, JSON.stringify(body), { qos: 1, retain: true });
    if (download === undefined) {
      this.publish([command(job.body)]);
      return;
    }
    void download(job.url, job.path).then(
      (tedgeUrl) => this.publish([command(prefetchedBody(job, tedgeUrl))]),
      (err: unknown) => {
        this.logger.warn({ url: job.url, error: errorMessage(err) }, 'tenant binary not copied: the operation fails');
        this.publish(prefetchFailedLines(job, errorMessage(err)).map((l) => message(job.smartrestTopic, l, { qos: 1 })));
      },
    );
  }
}
