import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../log/logger';
import { ackSlotOffset, encodeAckSlot } from './ack-pointer';

/**
 * Keeps the acknowledged position on disk: one small positional write per event-loop turn at most,
 * however many acknowledgements came in it. Not fsynced (except at close with fsync=always): a
 * position lost at a power cut means records sent again, never records lost.
 */
export class AckFile {
  private file: Promise<FileHandle> | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private seq = 0;

  constructor(
    private readonly path: string,
    private counter: number,
    private readonly logger: Logger,
  ) {}

  save(seq: number): void {
    this.seq = seq;
    this.dirty = true;
    this.writing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.writeLoop());
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        // Read-write and created if missing, without O_APPEND (which would ignore the slot offsets).
        this.file ??= open(this.path, constants.O_RDWR | constants.O_CREAT, 0o644);
        const fh = await this.file;
        this.counter++;
        await fh.write(encodeAckSlot({ seq: this.seq, counter: this.counter }), 0, 16, ackSlotOffset(this.counter));
      }
    } catch (err) {
      this.logger.warn({ err: errorMessage(err) }, 'outbox: cannot save the acknowledged position (messages may be sent twice after a restart)');
    } finally {
      this.writing = undefined;
    }
  }

  async close(sync: boolean): Promise<void> {
    while (this.writing) await this.writing;
    const fh = this.file ? await this.file.catch(() => undefined) : undefined;
    this.file = undefined;
    if (fh && sync) await fh.datasync().catch(() => {});
    await fh?.close().catch(() => {});
  }
}
