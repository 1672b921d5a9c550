import type { JsonObject } from '../../core/json';
import { AGENT_RESTARTED_REASON } from '../operations/command-transitions';
import type { CommandRun, HandlerContext, OperationHandler, Outcome } from '../operations/operation';
import type { WorkflowEngine } from './engine';
import type { Workflow } from './model';

/**
 * What the executor sees of one operation: the user's workflow file when there is one, else the agent's
 * built-in implementation (thin-edge: a `<op>.toml` replaces the builtin workflow of `<op>`, which it can
 * still call as `builtin:<op>`). The workflow can change under it (a file reloaded, added, removed):
 * a running command goes on with the version it started with; a command taken up after a restart runs
 * with the current one.
 */
export class WorkflowOperationHandler implements OperationHandler {
  private workflow: Workflow | undefined;
  private ctx: HandlerContext | undefined;

  constructor(
    readonly operation: string,
    private readonly engine: WorkflowEngine,
    private readonly builtin: OperationHandler | undefined,
  ) {}

  get managesStates(): boolean {
    return this.workflow !== undefined;
  }

  get current(): Workflow | undefined {
    return this.workflow;
  }

  get hasBuiltin(): boolean {
    return this.builtin !== undefined;
  }

  setWorkflow(workflow: Workflow | undefined): void {
    const had = this.workflow !== undefined;
    this.workflow = workflow;
    // A builtin without a capability (no plugin) is offered once a workflow serves it, and withdrawn again after.
    if (had !== (workflow !== undefined)) this.ctx?.capabilityChanged();
  }

  async capability(ctx: HandlerContext): Promise<JsonObject | undefined> {
    // A workflow over a builtin still offers what the builtin does (software types…), else `{}`.
    const builtin = await this.builtin?.capability(ctx);
    if (this.workflow === undefined) return builtin;
    // A workflow made of the builtin's own steps needs what the builtin needs (firmware.backend, say).
    if (builtin === undefined && this.builtin !== undefined && usesOwnSteps(this.workflow)) return undefined;
    return builtin ?? {};
  }

  async prepare(run: CommandRun): Promise<void> {
    // Called only for commands the executor starts itself, i.e. without a workflow.
    await this.builtin?.prepare?.(run);
  }

  execute(run: CommandRun): Promise<Outcome> {
    if (this.workflow !== undefined) return this.engine.run(run, this.workflow, false);
    if (this.builtin !== undefined) return this.builtin.execute(run);
    return Promise.resolve({ status: 'failed', reason: `no workflow for the operation ${this.operation}` });
  }

  async resume(run: CommandRun): Promise<Outcome> {
    if (this.workflow !== undefined) return this.engine.run(run, this.workflow, true);
    if (this.builtin === undefined) return { status: 'failed', reason: `the workflow of ${this.operation} was removed while the command was running` };
    // A state only a workflow knows: its file was removed while the agent was down.
    if (run.payload['status'] !== 'executing') return { status: 'failed', reason: `the workflow of ${this.operation} was removed while the command was in the state '${String(run.payload['status'])}'` };
    return this.builtin.resume ? this.builtin.resume(run) : { status: 'failed', reason: AGENT_RESTARTED_REASON };
  }

  async start(ctx: HandlerContext): Promise<void> {
    this.ctx = ctx;
    await this.builtin?.start?.(ctx);
  }

  async stop(): Promise<void> {
    await this.builtin?.stop?.();
  }
}

function usesOwnSteps(workflow: Workflow): boolean {
  for (const s of workflow.states.values()) {
    const a = s.action;
    if (a.kind === 'builtin-step' && a.operation === workflow.operation) return true;
  }
  return false;
}
