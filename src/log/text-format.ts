/** pino's numeric levels, as names in the width thin-edge's lines use (`ERROR`, ` WARN`, ` INFO`). */
const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: ' INFO', 40: ' WARN', 50: 'ERROR', 60: 'FATAL' };

/** Fields every record carries that the line shows in its own place (or not at all: pid and hostname are journald's). */
const PLACED = new Set(['level', 'time', 'msg', 'name', 'component', 'pid', 'hostname']);

function fieldValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (value !== null && typeof value === 'object' && typeof (value as { message?: unknown }).message === 'string') {
    // A serialised Error: its message says what happened; the stack is for `--log-format json`.
    return JSON.stringify((value as { message: string }).message);
  }
  return JSON.stringify(value) ?? String(value);
}

/**
 * One pino record as the line a person reads in `journalctl -u tedge-agent`:
 * `2026-12-01T14:04:18.123Z  INFO tedge-mapper-c8y c8y-mapper: connected to the cloud host=… port=8883`.
 * Without `timestamps` (under systemd, which stamps every line itself) the time is left out, as thin-edge does.
 */
export function formatLogLine(record: Readonly<Record<string, unknown>>, opts: { readonly timestamps: boolean }): string {
  const level = LEVEL_NAMES[Number(record['level'])] ?? String(record['level']);
  const who = [record['name'], record['component']].filter((v) => typeof v === 'string' && v !== '').join(' ');
  const fields = Object.entries(record)
    .filter(([k, v]) => !PLACED.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${fieldValue(v)}`);
  const head = opts.timestamps && typeof record['time'] === 'number' ? `${new Date(record['time']).toISOString()} ${level}` : level;
  const text = [typeof record['msg'] === 'string' ? record['msg'] : '', ...fields].filter((s) => s !== '').join(' ');
  return `${head} ${who}: ${text}\n`;
}
