import type { FlowMessage, StepFailure } from './flow-message';

/** What one step made of a batch: outputs in input order, and the inputs it failed on. */
export interface StepOutcome {
  readonly outputs: FlowMessage[];
  readonly failures: StepFailure[];
}

/**
 * One step of a flow, as the chain in the worker runs it. Built-in steps implement it in TypeScript,
 * script steps in a sandbox; both take a whole batch, so a sandbox is entered once per batch.
 */
export interface Step {
  /** The builtin's name or the script's file name, as in errors and statistics. */
  readonly label: string;
  readonly intervalMs: number;
  readonly hasInterval: boolean;
  onStartup(now: number): StepOutcome;
  onMessages(batch: readonly FlowMessage[]): StepOutcome;
  /** `final`: the flow ends (a stop, or a reload replacing it): a builtin releases everything it holds. */
  onInterval(now: number, final?: boolean): StepOutcome;
}

export const NOTHING: StepOutcome = Object.freeze({ outputs: [], failures: [] }) as StepOutcome;
