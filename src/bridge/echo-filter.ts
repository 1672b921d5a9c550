import { crc32 } from './outbox/crc32';

/**
 * Loop prevention for bidirectional rules (e.g. the AWS shadow): what the bridge publishes on one
 * side comes back from that side's broker, because the bridge subscribes to the same filter there.
 * `expect` notes a message we just published; `isEcho` consumes the first matching note.
 * Bounded: an echo that never comes (the broker did not send it) falls out after `capacity` notes.
 */
export class EchoFilter {
  private readonly notes: string[] = [];

  constructor(private readonly capacity = 1000) {}

  expect(topic: string, payload: Uint8Array): void {
    this.notes.push(key(topic, payload));
    if (this.notes.length > this.capacity) this.notes.shift();
  }

  isEcho(topic: string, payload: Uint8Array): boolean {
    if (this.notes.length === 0) return false;
    const i = this.notes.indexOf(key(topic, payload));
    if (i < 0) return false;
    this.notes.splice(i, 1);
    return true;
  }
}

function key(topic: string, payload: Uint8Array): string {
  return `${topic}\u0000${payload.byteLength}\u0000${crc32(payload)}`;
}
