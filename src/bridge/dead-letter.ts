import { appendFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { OutboxRecord } from './outbox/record';

/** Past this size the file is rotated once (`.1`), so a stream of refused records cannot fill the disk. */
const MAX_BYTES = 8 * 1024 * 1024;

/**
 * Records moved out of the outbox because the cloud refuses them, kept for a person to look at:
 * one JSON line each, `{"time","reason","topic","qos","retain","payload_base64"}`, under data.path.
 */
export class DeadLetterFile {
  constructor(readonly path: string) {}

  add(record: OutboxRecord, reason: string, now: Date): void {
    const line = JSON.stringify({
      time: now.toISOString(),
      reason,
      topic: record.topic,
      qos: record.qos,
      retain: record.retain,
      payload_base64: Buffer.from(record.payload).toString('base64'),
    });
    mkdirSync(dirname(this.path), { recursive: true });
    try {
      if (statSync(this.path).size + line.length > MAX_BYTES) renameSync(this.path, `${this.path}.1`);
    } catch {
      // not there yet
    }
    appendFileSync(this.path, `${line}\n`, { mode: 0o600 });
  }
}
