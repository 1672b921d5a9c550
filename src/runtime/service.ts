/**
 * A long-running part of a daemon. Constructors only store dependencies; `start()` does the work.
 * `stop()` must be safe to call after a failed or partial start.
 */
export interface Service {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}
