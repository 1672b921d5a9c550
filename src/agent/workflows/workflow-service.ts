import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../log/logger';
import { PathsWatch } from '../../runtime/paths-watch';
import type { Service } from '../../runtime/service';
import type { OperationHandler } from '../operations/operation';
import type { WorkflowEngine } from './engine';
import type { Workflow } from './model';
import { parseWorkflowFile } from './parse';
import { WorkflowOperationHandler } from './workflow-handler';

/** The part of the executor this service drives: operations come and go with their files. */
export interface HandlerRegistry {
  setHandler(handler: OperationHandler): Promise<void>;
  removeHandler(operation: string): Promise<void>;
}

interface Loaded {
  readonly text: string;
  /** The valid version in use; undefined when the file never parsed. */
  readonly workflow: Workflow | undefined;
}

/**
 * The workflow files of `<config-dir>/operations/*.toml`: read at start (before the executor restores
 * its commands, so that they resume with their workflow), then reloaded when the directory changes.
 * A file with errors is reported (te/errors and the log, naming file, state and key) and changes nothing:
 * the previous valid version of that file keeps running, or, if there never was one, its operation is not
 * served. A removed file withdraws its operation (the builtin or shipped workflow of that name serves it again).
 */
export class WorkflowService implements Service {
  readonly name = 'workflows';
  private readonly wrappers = new Map<string, WorkflowOperationHandler>();
  private readonly files = new Map<string, Loaded>();
  /** By operation: what serves it when no file of the directory does. */
  private readonly shipped = new Map<string, Workflow>();
  private watcher: PathsWatch | undefined;
  private timer: NodeJS.Timeout | undefined;
  private registry: HandlerRegistry | undefined;
  /** Reloads one after the other. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      readonly dir: string;
      readonly builtins: readonly OperationHandler[];
      readonly engine: WorkflowEngine;
      readonly reportError: (text: string) => void;
      readonly logger: Logger;
      readonly debounceMs?: number;
      /** Workflows the agent ships (device_profile): served until a file of the directory defines the same operation. */
      readonly shipped?: readonly { readonly file: string; readonly text: string }[];
    },
  ) {
    for (const b of deps.builtins) this.wrappers.set(b.operation, new WorkflowOperationHandler(b.operation, deps.engine, b));
    const builtinNames = builtinActions(deps.builtins);
    for (const s of deps.shipped ?? []) {
      const parsed = parseWorkflowFile(s.text, `builtin:${s.file}`, builtinNames);
      // A shipped file is part of the agent: broken means a bug here, never something a user can fix.
      if (!parsed.ok) throw new Error(`the shipped workflow ${s.file} is invalid: ${parsed.errors.join('; ')}`);
      const op = parsed.workflow.operation;
      this.shipped.set(op, parsed.workflow);
      const wrapper = this.wrappers.get(op) ?? new WorkflowOperationHandler(op, deps.engine, undefined);
      wrapper.setWorkflow(parsed.workflow);
      this.wrappers.set(op, wrapper);
    }
  }

  /** The built-in operations as the executor serves them: each replaceable by a workflow file. */
  get handlers(): OperationHandler[] {
    return [...this.wrappers.values()];
  }

  /** The executor, once it exists (it is built with `handlers`). */
  serveWith(registry: HandlerRegistry): void {
    this.registry = registry;
  }

  async start(): Promise<void> {
    try {
      mkdirSync(this.deps.dir, { recursive: true });
    } catch (err) {
      this.deps.logger.warn({ err, dir: this.deps.dir }, 'cannot create the workflow directory');
    }
    await this.reload();
    // The one file watcher of the daemons: fs.watch for a quick reaction, a slow poll for what it misses.
    this.watcher = new PathsWatch([this.deps.dir], () => this.schedule());
    this.watcher.start();
  }

  async stop(): Promise<void> {
    this.watcher?.stop();
    if (this.timer) clearTimeout(this.timer);
    await this.chain;
  }

  /** Editors write in several steps: one reload once the directory is quiet. */
  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.chain = this.chain.then(() => this.reload()).catch((err: unknown) => this.deps.logger.error({ err }, 'workflow reload failed'));
    }, this.deps.debounceMs ?? 200);
  }

  /** Compares the directory with what is loaded; only changed files are parsed (and reported) again. */
  private async reload(): Promise<void> {
    const { dir, logger, reportError } = this.deps;
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith('.toml') && !n.startsWith('.')).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') reportError(`cannot read the workflow directory ${dir}: ${errorMessage(err)}`);
    }
    const present = new Set<string>();
    for (const name of names) {
      let text: string;
      try {
        text = readFileSync(join(dir, name), 'utf8');
      } catch (err) {
        reportError(`cannot read the workflow ${join(dir, name)}: ${errorMessage(err)}`);
        continue;
      }
      present.add(name);
      const before = this.files.get(name);
      if (before?.text === text) continue;
      const parsed = parseWorkflowFile(text, join(dir, name), builtinActions(this.deps.builtins));
      for (const w of parsed.warnings) logger.warn(w);
      if (!parsed.ok) {
        const kept = before?.workflow === undefined ? 'not served' : 'the previous version of the file is kept';
        reportError(`invalid workflow in ${dir} (${kept}): ${parsed.errors.join('; ')}`);
        this.files.set(name, { text, workflow: before?.workflow });
        continue;
      }
      const owner = this.ownerOf(parsed.workflow.operation);
      if (owner !== undefined && owner !== name) {
        reportError(`${join(dir, name)}: operation: '${parsed.workflow.operation}' is already defined by ${owner}: this file is ignored`);
        this.files.set(name, { text, workflow: undefined });
        continue;
      }
      // A file that now defines another operation gives up the one it defined.
      if (before?.workflow !== undefined && before.workflow.operation !== parsed.workflow.operation) await this.withdraw(before.workflow.operation);
      this.files.set(name, { text, workflow: parsed.workflow });
      await this.install(parsed.workflow);
      logger.info({ file: name, operation: parsed.workflow.operation, states: [...parsed.workflow.states.keys()] }, before === undefined ? 'workflow loaded' : 'workflow reloaded');
    }
    for (const [name, loaded] of [...this.files]) {
      if (present.has(name)) continue;
      this.files.delete(name);
      if (loaded.workflow !== undefined && this.ownerOf(loaded.workflow.operation) === undefined) await this.withdraw(loaded.workflow.operation);
      logger.info({ file: name }, 'workflow file removed');
    }
  }

  private ownerOf(operation: string): string | undefined {
    for (const [name, loaded] of this.files) if (loaded.workflow?.operation === operation) return name;
    return undefined;
  }

  private async install(workflow: Workflow): Promise<void> {
    const existing = this.wrappers.get(workflow.operation);
    if (existing !== undefined) {
      existing.setWorkflow(workflow);
      return;
    }
    const wrapper = new WorkflowOperationHandler(workflow.operation, this.deps.engine, undefined);
    wrapper.setWorkflow(workflow);
    this.wrappers.set(workflow.operation, wrapper);
    await this.registry?.setHandler(wrapper);
  }

  private async withdraw(operation: string): Promise<void> {
    const wrapper = this.wrappers.get(operation);
    if (wrapper === undefined) return;
    // The user's file is gone: the shipped workflow of that operation, if any, serves it again.
    const shipped = this.shipped.get(operation);
    wrapper.setWorkflow(shipped);
    if (shipped !== undefined || wrapper.hasBuiltin) return;
    this.wrappers.delete(operation);
    await this.registry?.removeHandler(operation);
    this.deps.logger.info({ operation }, 'operation withdrawn: its workflow file is gone');
  }
}

/** What `builtin:` may name in a workflow: each builtin operation, and its steps as `<op>:<step>`. */
function builtinActions(builtins: readonly OperationHandler[]): Set<string> {
  const names = new Set<string>();
  for (const b of builtins) {
    names.add(b.operation);
    for (const step of b.steps ?? []) names.add(`${b.operation}:${step}`);
  }
  return names;
}
