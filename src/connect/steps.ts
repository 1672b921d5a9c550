import { errorMessage } from '../core/errors';

/**
 * Prints each step of `tedge connect` / `disconnect` as one line, `<what>... ok` (or `failed`,
 * `skipped: why`), so a user sees how far it got; the reason of a failure is the single
 * `error:` line the CLI prints on stderr.
 */
export class StepReporter {
  constructor(private readonly out: (s: string) => void) {}

  /** Runs a step; `detail` adds what it found, e.g. `ok (JWT received)`. Rethrows after `failed`. */
  async run<T>(what: string, step: () => T | Promise<T>, detail?: (result: T) => string | undefined): Promise<T> {
    this.out(`${what}... `);
    let result: T;
    try {
      result = await step();
    } catch (error) {
      this.out('failed\n');
      throw error;
    }
    const extra = detail?.(result);
    this.out(extra === undefined ? 'ok\n' : `ok (${extra})\n`);
    return result;
  }

  /**
   * A step whose failure may be survivable: a failure `survivable` accepts is printed as
   * `failed: <reason>` and returned; any other is printed as `failed` and thrown, as with run().
   */
  async attempt<T>(what: string, step: () => T | Promise<T>, survivable: (error: unknown) => boolean = () => true): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
    this.out(`${what}... `);
    try {
      const value = await step();
      this.out('ok\n');
      return { ok: true, value };
    } catch (error) {
      if (!survivable(error)) {
        this.out('failed\n');
        throw error;
      }
      this.out(`failed: ${errorMessage(error)}\n`);
      return { ok: false, error };
    }
  }

  skipped(what: string, why: string): void {
    this.out(`${what}... skipped: ${why}\n`);
  }

  warning(what: string, why: string): void {
    this.out(`${what}... warning: ${why}\n`);
  }

  line(text: string): void {
    this.out(`${text}\n`);
  }
}
