import { type JsonObject, type JsonValue, isJsonObject, parseJson } from '../../core/json';
import type { AwaitHandlers, ExitHandlers, Target } from './model';

/**
 * How the end of an action picks the next state, as thin-edge's ExitHandlers::state_update: pure, from the
 * exit (code, signal, launch error, timeout) and the script's stdout. The result is what is merged into the
 * payload: always a `status`, a `reason` when known, and the fields of the script's JSON output.
 */
export type ScriptEnd =
  | { readonly kind: 'exit'; readonly code: number }
  | { readonly kind: 'signal'; readonly signal: string }
  | { readonly kind: 'launch-error'; readonly message: string }
  | { readonly kind: 'timeout'; readonly seconds: number };

/** The JSON between `:::begin-tedge:::` and `:::end-tedge:::` lines, or why there is none usable. */
export function scriptOutput(stdout: string): { readonly json?: JsonObject; readonly error?: string } {
  const m = /:::begin-tedge:::\r?\n([\s\S]*?)\r?\n?:::end-tedge:::/.exec(stdout);
  if (m === null) return { error: 'contains no :::begin-tedge::: … :::end-tedge::: content' };
  let value: JsonValue;
  try {
    value = parseJson(m[1] as string);
  } catch (err) {
    return { error: `is not valid JSON: ${(err as Error).message}` };
  }
  if (!isJsonObject(value)) return { error: 'is not a JSON object' };
  return { json: value };
}

/** `target` over `json`: its status always wins, its reason only when the output gives none. */
export function inject(target: Target, json: JsonObject | undefined): JsonObject {
  const out: JsonObject = { ...(json ?? {}), status: target.status };
  if (target.reason !== undefined && typeof out['reason'] !== 'string') out['reason'] = target.reason;
  return out;
}

export function scriptUpdate(program: string, h: ExitHandlers, end: ScriptEnd, stdout: string): JsonObject {
  const out = scriptOutput(stdout);
  switch (end.kind) {
    case 'launch-error':
      return inject(h.onError ?? { status: 'failed' }, { reason: `Failed to launch ${program}: ${end.message}` });
    case 'timeout':
      if (h.onTimeout !== undefined) return inject(h.onTimeout, undefined);
      return h.onKill ? inject(h.onKill, undefined) : { status: 'failed', reason: `${program} timed out after ${end.seconds} s and was killed` };
    case 'signal':
      return h.onKill ? inject(h.onKill, undefined) : { status: 'failed', reason: `${program} killed by signal ${end.signal}` };
    case 'exit':
      break;
  }
  if (end.code === 0) {
    if (h.onSuccess !== undefined) return inject(h.onSuccess, out.json);
    // Without on_success the script itself says where to go: its output must name the next status.
    if (out.json === undefined) return { status: 'failed', reason: `Program \`${program}\` stdout ${out.error ?? ''}` };
    const status = out.json['status'];
    if (typeof status !== 'string') return { ...out.json, status: 'failed', reason: `Program \`${program}\` stdout gives no "status"` };
    if (h.onStdout.length > 0 && !h.onStdout.includes(status)) {
      return { ...out.json, status: 'failed', reason: `Program \`${program}\` asked for the state '${status}', not one of on_stdout (${h.onStdout.join(', ')})` };
    }
    return out.json;
  }
  const range = h.onExit.find((r) => r.from <= end.code && end.code <= r.to);
  if (range !== undefined) return inject(range.target, out.json);
  // thin-edge: the reason is the script's own, else the exit code, over that of on_error.
  const reason = typeof out.json?.['reason'] === 'string' ? out.json['reason'] : `${program} returned exit code ${end.code}`;
  return { status: (h.onError ?? { status: 'failed' }).status, reason };
}

/**
 * A built-in action (download, upload, `builtin:<op>:<step>`) that ended with a result or an error; on an
 * error its `json` (a builtin step's progress) is kept too. thin-edge's wording of the reason.
 */
export function actionUpdate(
  action: string,
  h: { readonly onSuccess?: Target; readonly onError?: Target },
  result: { readonly ok: true; readonly json: JsonObject } | { readonly ok: false; readonly reason: string; readonly json?: JsonObject },
): JsonObject {
  if (result.ok) return inject(h.onSuccess ?? { status: 'successful' }, result.json);
  const reason = `builtin '${action}' action failed with: ${result.reason}`;
  return inject(h.onError ?? { status: 'failed' }, { ...(result.json ?? {}), reason });
}

/** The end of a sub-operation or builtin awaited by await-operation-completion. */
export function awaitUpdate(h: AwaitHandlers, sub: { readonly status: 'successful'; readonly output: JsonObject } | { readonly status: 'failed'; readonly reason: string } | { readonly status: 'timeout' }): JsonObject {
  switch (sub.status) {
    case 'successful':
      return inject(h.onSuccess, sub.output);
    case 'failed':
      // thin-edge: the reason of on_error, when it gives one, over that of the sub-operation.
      return { status: h.onError.status, reason: h.onError.reason ?? sub.reason };
    case 'timeout':
      return inject(h.onTimeout, undefined);
  }
}

/**
 * One step of `iterate` (thin-edge's process_iterate): the first item, or the one after `@next.index`,
 * items with `"@skip": true` passed over, into `@next = {index, item}` and `on_next`; `on_success` after
 * the last; `on_error` when the target is not an array or the index is out of range.
 */
export function iterateUpdate(items: JsonValue | null, payload: JsonObject, path: string, t: { onNext: Target; onSuccess: Target; onError: Target }): JsonObject {
  if (!Array.isArray(items)) return inject(t.onError, { reason: `iterate: ${path} is not an array` });
  if (items.length === 0) return inject(t.onSuccess, undefined);
  const previous = payload['@next'];
  let index = 0;
  if (isJsonObject(previous)) {
    const i = typeof previous['index'] === 'number' ? previous['index'] : 0;
    if (i >= items.length) return inject(t.onError, { reason: `iterate: index ${i} out of bounds` });
    index = i + 1;
  }
  while (index < items.length && isJsonObject(items[index]) && (items[index] as JsonObject)['@skip'] === true) index++;
  if (index >= items.length) return inject(t.onSuccess, undefined);
  const next: JsonObject = { ...(isJsonObject(previous) ? previous : {}), index, item: items[index] as JsonValue };
  return inject(t.onNext, { '@next': next });
}
