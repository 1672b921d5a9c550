import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bus } from '../bus/bus';
import { errorMessage } from '../core/errors';
import { parseJsonObject } from '../core/json';
import { type Message, message } from '../core/message';
import { type EntityTopicId, topicFor } from '../core/topics';
import type { Service } from '../runtime/service';

export function inventoryPath(configDir: string): string {
  return join(configDir, 'device', 'inventory.json');
}

/**
 * Pure: `<config-dir>/device/inventory.json` to twin messages, one retained `te/<device>/twin/<key>` per
 * top-level key (§4.1), as thin-edge. Keys that cannot be a topic segment or use the reserved `@`
 * prefix are refused, each with a reason; the others are still published.
 */
export function inventoryMessages(text: string, device: EntityTopicId, topicRoot: string): { messages: Message[]; refused: string[] } {
  const doc = parseJsonObject(text, 'an inventory (a JSON object of twin fragments)');
  const messages: Message[] = [];
  const refused: string[] = [];
  for (const [key, value] of Object.entries(doc)) {
    if (key === '' || /[/+#\u0000]/.test(key) || key.startsWith('@')) {
      refused.push(`the inventory key ${JSON.stringify(key)} cannot be a twin fragment (empty, '@' prefix, or one of / + #)`);
      continue;
    }
    messages.push(message(topicFor(device, { kind: 'twin', fragment: key }, topicRoot), JSON.stringify(value), { qos: 1, retain: true }));
  }
  return { messages, refused };
}

/** Publishes the inventory fragments at start (and after a reconnection); a missing file is nothing to say, a broken one is reported. */
export class InventoryPublisher implements Service {
  readonly name = 'inventory';

  constructor(
    private readonly bus: Bus,
    private readonly opts: { readonly configDir: string; readonly device: EntityTopicId; readonly topicRoot: string },
    private readonly reportError: (text: string) => void,
  ) {}

  async start(): Promise<void> {
    // Retained twin data is lost with a broker restarted without persistence: published again on reconnection.
    let connected = true;
    this.bus.onConnectionChange((now) => {
      if (now && !connected) this.publish().catch(() => {});
      connected = now;
    });
    await this.publish();
  }

  private async publish(): Promise<void> {
    const file = inventoryPath(this.opts.configDir);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.reportError(`cannot read ${file}: ${errorMessage(err)}`);
      return;
    }
    let result: ReturnType<typeof inventoryMessages>;
    try {
      result = inventoryMessages(text, this.opts.device, this.opts.topicRoot);
    } catch (err) {
      this.reportError(`invalid inventory ${file}: ${errorMessage(err)}`);
      return;
    }
    for (const why of result.refused) this.reportError(`${file}: ${why}`);
    await Promise.all(result.messages.map((m) => this.bus.publish(m)));
  }

  async stop(): Promise<void> {}
}
