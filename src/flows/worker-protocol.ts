import type { PackedMessages, StepFailure } from './flow-message';
import type { FlowDefinition } from './model';
import type { StepStatsDelta } from './step-stats';

export interface WorkerInit {
  readonly flow: FlowDefinition;
  /** Compiled step modules by script path (compiled once, in the mapper). */
  readonly scripts: Record<string, string>;
  readonly callTimeoutMs: number;
  readonly mapperStore: [string, string][];
  /** `context.script` stores by step label, carried over a reload (thin-edge keeps them across reloads). */
  readonly scriptStores: Record<string, [string, string][]>;
  readonly now: number;
  /** Count each step function's calls (flows.stats.on_message/on_interval/on_startup): off, nothing is timed. */
  readonly stepStats?: boolean;
}

export type WorkerRequest =
  | { readonly id: number; readonly kind: 'messages'; readonly messages: PackedMessages; readonly mapperUpdates: [string, string | null][] }
  | { readonly id: number; readonly kind: 'tick'; readonly now: number; readonly final: boolean; readonly mapperUpdates: [string, string | null][] }
  | { readonly id: number; readonly kind: 'script-stores' };

export interface WorkerReply {
  readonly id: number;
  readonly outputs: PackedMessages;
  readonly failures: StepFailure[];
  readonly logs: string[];
  readonly mapperChanges: [string, string | null][];
  readonly scriptStores?: Record<string, [string, string][]>;
  /** The step calls since the previous reply, when WorkerInit.stepStats. */
  readonly stepStats?: StepStatsDelta[];
}

export type WorkerReady =
  | { readonly ready: true; readonly hasInterval: boolean; readonly startup: WorkerReply }
  | { readonly ready: false; readonly error: string };
