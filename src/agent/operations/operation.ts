import type { JsonObject } from '../../core/json';
import type { EntityTopicId } from '../../core/topics';

/**
 * The contract between the agent's one command framework (the executor in this folder) and what
 * runs an operation: the built-in operations (restart, software, configuration, logs) and, later,
 * the workflow engine. The executor owns the MQTT side and the persisted state of `te/<entity>/cmd/<op>/<id>`:
 * it publishes `executing` only after it is persisted, keeps every field of the payload it does not own,
 * writes one log per command, and after an agent restart hands every non-terminal command back to its
 * handler's `resume` (or ends it `failed`). A handler never publishes command states itself.
 */
export interface OperationHandler {
  /** The operation name in the topic: `restart`, `software_update`, … */
  readonly operation: string;
  /**
   * True for a workflow: the handler runs the `init` state itself and moves the command through its
   * states with `run.advance`; the executor then persists `init` as it is and publishes nothing until
   * then. Read when a command starts, so a handler may change it (a workflow file added or removed).
   */
  readonly managesStates?: boolean;
  /**
   * The retained capability payload published on `te/<entity>/cmd/<op>` (`{}` when it has nothing to say,
   * `{"types":[…]}` for software/config/log). Undefined: not supported right now (no plugin, say).
   * Called at start and whenever the handler calls `ctx.capabilityChanged()`.
   */
  capability(ctx: HandlerContext): Promise<JsonObject | undefined>;
  /**
   * Runs the command, already persisted as `executing`. Resolves with the outcome; a rejection ends the
   * command `failed` with the error's message as reason. Must honour `run.signal` (agent stopping).
   */
  execute(run: CommandRun): Promise<Outcome>;
  /**
   * Optional. Called once `executing` is persisted but before it is published or `execute` runs: records
   * what a later `resume` needs to tell what happened (restart's reboot marker), so that nobody can see
   * `executing` before that record exists. No effect on the device here. A rejection ends the command
   * `failed` before `executing` is published.
   */
  prepare?(run: CommandRun): Promise<void>;
  /**
   * After an agent restart, a command this handler was running (persisted `executing`): finish it
   * (restart checks whether the device rebooted) or say why it cannot go on. Without it the executor
   * ends such a command `failed` with "the agent restarted while the command was executing".
   */
  resume?(run: CommandRun): Promise<Outcome>;
  /**
   * The steps a workflow may run one by one as `action = "builtin:<op>:<step>"` (thin-edge's builtin
   * operation steps), so that a user's workflow file can reorder them or put its own states in between.
   */
  readonly steps?: readonly string[];
  /**
   * Runs one of `steps` on a command in a workflow state. `resumed`: the agent restarted while the
   * command was in this state (the step was perhaps half done: the step's own persisted progress says).
   */
  runStep?(step: string, run: CommandRun, resumed: boolean): Promise<StepResult>;
  /** Starts watchers (plugin directories, files) once; stopped with the agent. */
  start?(ctx: HandlerContext): Promise<void>;
  stop?(): Promise<void>;
}

/** Terminal outcomes; `payload` is merged over the command's payload (e.g. software_list's `currentSoftwareList`). */
export type Outcome =
  | { readonly status: 'successful'; readonly payload?: JsonObject }
  | { readonly status: 'failed'; readonly reason: string; readonly payload?: JsonObject };

/** The end of a builtin step: `json` is merged into the payload either way (progress, the reason to report). */
export type StepResult = { readonly ok: true; readonly json: JsonObject } | { readonly ok: false; readonly reason: string; readonly json?: JsonObject };

/** The agent's TedgeConfig as handlers read it. */
export interface HandlerConfig {
  string(key: string): string;
  text(key: string): string | undefined;
  number(key: string): number;
  boolean(key: string): boolean;
  list(key: string): readonly string[];
  /** Named cloud profiles (`c8y.profiles.<name>.*`) with a value; absent in handler tests that have none. */
  profiles?(cloud: 'c8y' | 'az' | 'aws'): readonly string[];
  /** The view of one profile: `<cloud>.*` keys read from `<cloud>.profiles.<name>.*` (TedgeConfig.forCloud). */
  forCloud?(cloud: 'c8y' | 'az' | 'aws', profile: string): HandlerConfig;
}

/** What a handler may use: the composition root builds what they share, the executor adds each one's `capabilityChanged`. */
export interface HandlerContext {
  /** The device this agent serves (mqtt.device_topic_id), e.g. `device/main//` or `device/child1//`. */
  readonly device: EntityTopicId;
  readonly configDir: string;
  /** Effective config values by key (the agent's TedgeConfig), for keys handlers read. */
  readonly config: HandlerConfig;
  /** Republish this handler's capability (plugins or plugin files changed). */
  capabilityChanged(): void;
  /** A broken plugin file or plugin: one message on te/errors and one log line; the agent goes on. */
  reportError(text: string): void;
  /**
   * Stops the agent with the exit code that asks its service manager (systemd, `tedge run all`) to start
   * it again: commands in flight are persisted and resumed by the next process. Absent in handler tests.
   */
  restartAgent?(reason: string): void;
}

/** One command being run. */
export interface CommandRun {
  readonly entity: EntityTopicId;
  readonly operation: string;
  readonly cmdId: string;
  /** The full command payload as received (status `executing`), unknown fields included. */
  readonly payload: JsonObject;
  /** Appends a line to `<logs.path>/agent/workflow-<op>-<id>.log`. */
  log(line: string): void;
  /** Persist a progress payload (merged, still `executing`) before an effect that may restart the process. */
  checkpoint(update: JsonObject): Promise<void>;
  /**
   * Moves the command to a non-terminal state (a workflow's `download`, `restart`, …): `payload` is merged
   * over the command's, persisted, then published; resolves once the broker has it. Terminal states are
   * the outcome of `execute`/`resume`, never an advance. The executor always provides this and `commands`;
   * they are optional only so that the runs of built-in handlers' tests need not fake them.
   */
  readonly advance?: (status: string, payload: JsonObject) => Promise<void>;
  /**
   * Another command of this device (a sub-operation): `publish` sends its payload retained (undefined
   * clears it); `watch` calls `listener` with its last known payload at once when there is one, then with
   * each new one (undefined once cleared). Returns the function that stops watching.
   */
  readonly commands?: {
    publish(operation: string, cmdId: string, payload: JsonObject | undefined): Promise<void>;
    watch(operation: string, cmdId: string, listener: (payload: JsonObject | undefined) => void): () => void;
  };
  /** Aborted when the agent stops: a child process is killed, a download paused. */
  readonly signal: AbortSignal;
  readonly context: HandlerContext;
}
