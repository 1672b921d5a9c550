/**
 * One software operation at a time, as thin-edge's software manager does: package managers hold a
 * lock (apt, dpkg), and a list taken during an update would report a half-done state.
 */
export class SoftwareSerial {
  private tail: Promise<void> = Promise.resolve();
  /** Operations queued or running. */
  private pending = 0;

  /** Runs `fn` after every operation queued before it; `onWait` is told when it has to wait. */
  run<T>(fn: () => Promise<T>, onWait?: () => void): Promise<T> {
    if (this.pending > 0) onWait?.();
    this.pending++;
    const result = this.tail.then(async () => {
      try {
        return await fn();
      } finally {
        this.pending--;
      }
    });
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
