import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Message, formatLine, message } from '../../../src/core/message';
import { FlowEngine } from '../../../src/flows/flow-engine';
import { createLogger } from '../../../src/log/logger';

/** A flows directory in a temp dir and the engine the mappers use, its publishes kept as `[topic] payload` lines. */
export class EngineUnderTest {
  readonly lines: string[] = [];
  readonly logs: string[] = [];
  readonly engine: FlowEngine;
  readonly logger = createLogger({ name: 'test', level: 'info', format: 'json', write: (l) => void this.logs.push(l) });
  now = Date.UTC(2025, 0, 1);

  constructor(readonly dir = mkdtempSync(join(tmpdir(), 'flows-'))) {
    this.engine = new FlowEngine({
      flowsDir: dir,
      topicRoot: 'te',
      service: 'tedge-mapper-local',
      mapperParams: { url: 'example.net' },
      limits: { callTimeoutMs: 200, heapMb: 16, stackMb: 1 },
      logger: this.logger,
      clock: { now: () => new Date(this.now) },
      publish: (m: Message) => void this.lines.push(formatLine(m)),
    });
  }

  write(files: Record<string, string>): this {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(dirname(join(this.dir, name)), { recursive: true });
      writeFileSync(join(this.dir, name), text);
    }
    return this;
  }

  async send(topic: string, payload: string): Promise<void> {
    await this.engine.dispatch(message(topic, payload));
  }

  /** The lines published since the last call. */
  take(): string[] {
    return this.lines.splice(0);
  }

  async close(): Promise<void> {
    await this.engine.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A step that holds its inputs in context.script and releases them, joined, on `out/held` at its interval (at a stop too). */
export const HOLDING_STEP = `export function onMessage(m, context) {
  context.script.set('held', [...(context.script.get('held') ?? []), new TextDecoder().decode(m.payload)]);
  return [];
}
export function onInterval(time, context) {
  const held = context.script.get('held') ?? [];
  context.script.set('held', []);
  return held.length === 0 ? [] : [{ topic: 'out/held', payload: held.join(',') }];
}`;
