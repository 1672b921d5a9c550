import type { JsonObject } from '../../../../src/core/json';
import type { CommandRun, HandlerContext } from '../../../../src/agent/operations/operation';

/** A HandlerContext over a plain map of config values, recording errors and capability changes. */
export function fakeContext(configDir: string, values: Record<string, string | number | boolean | readonly string[]>): HandlerContext & { errors: string[]; changes: number } {
  const get = (key: string): string | number | boolean | readonly string[] => {
    const v = values[key];
    if (v === undefined) throw new Error(`test config lacks ${key}`);
    return v;
  };
  const ctx = {
    device: 'device/main//',
    configDir,
    errors: [] as string[],
    changes: 0,
    config: {
      string: (k: string) => String(get(k)),
      text: (k: string) => (values[k] === undefined ? undefined : String(values[k])),
      number: (k: string) => Number(get(k)),
      boolean: (k: string) => get(k) === true || get(k) === 'true',
      list: (k: string) => {
        const v = get(k);
        return Array.isArray(v) ? v : String(v).split(',').filter((s) => s !== '');
      },
    },
    capabilityChanged: () => {
      ctx.changes++;
    },
    reportError: (t: string) => {
      ctx.errors.push(t);
    },
  };
  return ctx;
}

/** A CommandRun of `payload`, collecting log lines and checkpoints. */
export function fakeRun(ctx: HandlerContext, operation: string, cmdId: string, payload: JsonObject, signal = new AbortController().signal): CommandRun & { lines: string[]; checkpoints: JsonObject[] } {
  const run = {
    entity: ctx.device,
    operation,
    cmdId,
    payload: { status: 'executing', ...payload },
    lines: [] as string[],
    checkpoints: [] as JsonObject[],
    log: (l: string) => {
      run.lines.push(l);
    },
    checkpoint: (u: JsonObject) => {
      run.checkpoints.push(u);
      return Promise.resolve();
    },
    signal,
    context: ctx,
  };
  return run;
}
