import { smartrestLine } from '../smartrest';

/** How a Cumulocity operation is addressed in status updates: by id (504-506) or by name (501-503). */
export type OperationRef = { readonly by: 'id'; readonly opid: string } | { readonly by: 'name'; readonly name: string };

/** thin-edge truncates failure reasons to 500 bytes; Cumulocity rejects longer SmartREST fields. */
export const MAX_REASON_BYTES = 500;

function ref(r: OperationRef): string {
  return r.by === 'id' ? r.opid : r.name;
}

export function executingLine(r: OperationRef): string {
  return smartrestLine(r.by === 'id' ? 504 : 501, ref(r));
}

export function successfulLine(r: OperationRef, ...params: readonly string[]): string {
  return smartrestLine(r.by === 'id' ? 506 : 503, ref(r), ...params);
}

export function failedLine(r: OperationRef, reason: string): string {
  return smartrestLine(r.by === 'id' ? 505 : 502, ref(r), truncateUtf8(reason, MAX_REASON_BYTES));
}

/** Cuts at a character boundary so the result stays valid UTF-8 and at most `max` bytes. */
export function truncateUtf8(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let out = '';
  let size = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (size + n > max) break;
    out += ch;
    size += n;
  }
  return out;
}
