import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from '../log/logger';
import type { FlowEngine } from './flow-engine';
import type { FlowDefinition, FlowInput } from './model';

const encoder = new TextEncoder();
const TAIL_POLL_MS = 500;

/** A command line of a flow file as argv: split on blanks, never given to a shell. */
export function commandArgv(command: string): string[] {
  return command.trim().split(/\s+/).filter((w) => w !== '');
}

/**
 * The file and process inputs of the flows: each line is one message on the input's topic.
 * A file is followed like `tail -F` (from its end when the flow starts; from the start again after it
 * was truncated or replaced), or read whole every `interval`. A command runs once and its output is
 * followed, or runs every `interval`. Commands run from the flow's directory, as thin-edge does.
 */
export class FlowInputs {
  private running = new Map<string, () => void>();

  constructor(
    private readonly engine: FlowEngine,
    private readonly logger: Logger,
  ) {}

  sync(flows: readonly FlowDefinition[]): void {
    const wanted = new Map<string, { flow: FlowDefinition; input: FlowInput }>();
    for (const flow of flows) for (const input of flow.inputs) if (input.kind !== 'mqtt') wanted.set(`${flow.path}\u0000${JSON.stringify(input)}`, { flow, input });
    for (const [key, stop] of this.running) {
      if (!wanted.has(key)) {
        stop();
        this.running.delete(key);
      }
    }
    for (const [key, { flow, input }] of wanted) if (!this.running.has(key)) this.running.set(key, this.startInput(flow, input));
  }

  stop(): void {
    for (const stop of this.running.values()) stop();
    this.running.clear();
  }

  private lines(flow: FlowDefinition, topic: string, lines: readonly string[]): void {
    const time = Date.now();
    const messages = lines.filter((l) => l !== '').map((l) => ({ topic, payload: encoder.encode(l), time }));
    if (messages.length > 0) void this.engine.inject(flow.path, messages);
  }

  private startInput(flow: FlowDefinition, input: FlowInput): () => void {
    if (input.kind === 'file') return input.intervalMs !== undefined ? this.readEvery(flow, input.path, input.topic, input.intervalMs) : this.tail(flow, input.path, input.topic);
    if (input.kind === 'process') return input.intervalMs !== undefined ? this.runEvery(flow, input.command, input.topic, input.intervalMs) : this.follow(flow, input.command, input.topic);
    return () => {};
  }

  private readEvery(flow: FlowDefinition, path: string, topic: string, ms: number): () => void {
    const t = setInterval(() => {
      try {
        this.lines(flow, topic, readFileSync(path, 'utf8').split('\n'));
      } catch (err) {
        this.logger.warn({ flow: flow.name, path }, `cannot read the flow input: ${(err as Error).message}`);
      }
    }, ms);
    t.unref();
    return () => clearInterval(t);
  }

  private tail(flow: FlowDefinition, path: string, topic: string): () => void {
    let offset = sizeOf(path) ?? 0;
    let partial = '';
    const t = setInterval(() => {
      const size = sizeOf(path);
      if (size === undefined) return;
      if (size < offset) offset = 0; // truncated or replaced: read it from the start
      if (size === offset) return;
      const fd = openSync(path, 'r');
      try {
        const buf = Buffer.alloc(size - offset);
        readSync(fd, buf, 0, buf.length, offset);
        offset = size;
        const text = partial + buf.toString('utf8');
        const parts = text.split('\n');
        partial = parts.pop() ?? '';
        this.lines(flow, topic, parts);
      } finally {
        closeSync(fd);
      }
    }, TAIL_POLL_MS);
    t.unref();
    return () => clearInterval(t);
  }

  private spawnLines(flow: FlowDefinition, command: string, topic: string): ChildProcess | undefined {
    const [program, ...args] = commandArgv(command);
    if (program === undefined) return undefined;
    const child = spawn(program, args, { cwd: dirname(flow.path), stdio: ['ignore', 'pipe', 'ignore'] });
    child.on('error', (err) => this.logger.warn({ flow: flow.name, command }, `flow input command failed: ${err.message}`));
    if (child.stdout) createInterface({ input: child.stdout }).on('line', (line) => this.lines(flow, topic, [line]));
    return child;
  }

  private follow(flow: FlowDefinition, command: string, topic: string): () => void {
    const child = this.spawnLines(flow, command, topic);
    return () => child?.kill();
  }

  private runEvery(flow: FlowDefinition, command: string, topic: string, ms: number): () => void {
    const t = setInterval(() => this.spawnLines(flow, command, topic), ms);
    t.unref();
    return () => clearInterval(t);
  }
}

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}
