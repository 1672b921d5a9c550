import type { JsonObject, JsonValue } from '../../../core/json';

/** A log_upload payload, checked. Dates are epoch seconds. */
export interface LogRequest {
  readonly type: string;
  readonly tedgeUrl?: string;
  readonly since?: number;
  readonly until?: number;
  readonly searchText?: string;
  /** Tail: only the last `lines` lines (after searchText). */
  readonly lines?: number;
}

/** thin-edge's default when a request gives no `lines`. */
export const DEFAULT_LINES = 1000;

/** Pure: the payload to a request, or the reason it is malformed (the command then fails with it). */
export function parseLogRequest(p: JsonObject): LogRequest | string {
  const type = p['type'];
  if (typeof type !== 'string' || type === '') return "log_upload needs a 'type' (a non-empty string)";
  const tedgeUrl = p['tedgeUrl'];
  if (tedgeUrl !== undefined && (typeof tedgeUrl !== 'string' || tedgeUrl === '')) return "'tedgeUrl' must be a URL string";
  const since = dateSeconds(p['dateFrom'], 'dateFrom');
  if (typeof since === 'string') return since;
  const until = dateSeconds(p['dateTo'], 'dateTo');
  if (typeof until === 'string') return until;
  if (since !== undefined && until !== undefined && since > until) return `'dateFrom' is after 'dateTo'`;
  const searchText = p['searchText'];
  if (searchText !== undefined && searchText !== null && typeof searchText !== 'string') return "'searchText' must be a string";
  const lines = p['lines'] ?? DEFAULT_LINES;
  if (typeof lines !== 'number' || !Number.isInteger(lines) || lines < 0) return "'lines' must be a non-negative integer";
  return {
    type,
    ...(typeof tedgeUrl === 'string' ? { tedgeUrl } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(typeof searchText === 'string' && searchText !== '' ? { searchText } : {}),
    lines,
  };
}

/** RFC 3339 text (what the mappers send) or a number of epoch seconds; absent/null: no bound. */
export function dateSeconds(v: JsonValue | undefined, field: string): number | undefined | string {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return Math.floor(v);
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v)) {
    const ms = Date.parse(v);
    if (!Number.isNaN(ms)) return Math.floor(ms / 1000);
  }
  return `'${field}' must be an RFC 3339 date such as 2024-06-22T17:03:14.000+02:00, not ${JSON.stringify(v)}`;
}

/**
 * Keeps the lines that contain `searchText`, and of those the last `lines` in a
 * ring, so a huge log costs memory for the tail only.
 */
export class LineFilter {
  private readonly ring: string[] = [];
  private start = 0;

  constructor(private readonly opts: { readonly searchText?: string; readonly lines?: number }) {}

  push(line: string): void {
    const { searchText, lines } = this.opts;
    if (searchText !== undefined && !line.includes(searchText)) return;
    if (lines === undefined) return void this.ring.push(line);
    if (lines === 0) return;
    if (this.ring.length < lines) this.ring.push(line);
    else {
      this.ring[this.start] = line;
      this.start = (this.start + 1) % lines;
    }
  }

  result(): string[] {
    return [...this.ring.slice(this.start), ...this.ring.slice(0, this.start)];
  }
}
