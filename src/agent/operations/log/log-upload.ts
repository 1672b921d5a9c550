import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import { errorMessage } from '../../../core/errors';
import type { JsonObject } from '../../../core/json';
import { uploadFile } from '../../transfer/upload';
import type { CommandRun, HandlerContext, OperationHandler, Outcome } from '../operation';
import { defaultTedgeUrl } from '../plugin-support/command-url';
import { clientTls } from '../../transfer/client-tls';
import { PathsWatch } from '../../../runtime/paths-watch';
import { LineFilter, parseLogRequest } from './log-request';
import { type LogPlugins, logSettings } from './log-plugins';
import { defaultLogToml } from './log-toml';

/**
 * log_upload: the plugin's `get` of the type for the request's window, then `searchText` and the tail of
 * `lines` applied by the agent, the result PUT to `tedgeUrl` (filled in when absent).
 */
export class LogUploadHandler implements OperationHandler {
  readonly operation = 'log_upload';
  private watch: PathsWatch | undefined;

  constructor(private readonly plugins: LogPlugins) {}

  async capability(ctx: HandlerContext): Promise<JsonObject | undefined> {
    if (!ctx.config.boolean('agent.enable.log_upload')) return undefined;
    return { types: await this.plugins.types(ctx) };
  }

  /** Creates the toml with examples when there is none (thin-edge does too), then watches it and the plugin dirs. */
  async start(ctx: HandlerContext): Promise<void> {
    const s = logSettings(ctx);
    if (!existsSync(s.tomlPath)) {
      try {
        await mkdir(dirname(s.tomlPath), { recursive: true });
        await writeFile(s.tomlPath, defaultLogToml(s.logsPath), { flag: 'wx' });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') ctx.reportError(`cannot create ${s.tomlPath}: ${errorMessage(e)}`);
      }
    }
    this.watch = new PathsWatch(this.plugins.watchedPaths(ctx), () => ctx.capabilityChanged());
    this.watch.start();
  }

  stop(): Promise<void> {
    this.watch?.stop();
    return Promise.resolve();
  }

  async execute(run: CommandRun): Promise<Outcome> {
    const ctx = run.context;
    const request = parseLogRequest(run.payload);
    if (typeof request === 'string') return { status: 'failed', reason: request };
    const resolved = this.plugins.resolve(ctx, request.type);
    const known = await this.plugins.types(ctx);
    if (resolved === undefined || (resolved.plugin.name === 'file' && !known.includes(request.type))) {
      return { status: 'failed', reason: `unknown log type '${request.type}' (supported: ${known.join(', ')})` };
    }
    const tedgeUrl =
      request.tedgeUrl ??
      defaultTedgeUrl(ctx, run, this.operation, request.type);
    if (tedgeUrl === undefined) return { status: 'failed', reason: `cannot build a tedgeUrl for ${run.entity}: give one in the request` };
    if (request.tedgeUrl === undefined) await run.checkpoint({ tedgeUrl });

    const base = join(logSettings(ctx).tmpDir, `log_upload-${request.type.replace(/[^A-Za-z0-9._-]/g, '_')}-${run.cmdId.replace(/[^A-Za-z0-9._-]/g, '_')}`);
    const raw = `${base}.raw`;
    const out = `${base}.log`;
    const ctl = { signal: run.signal, log: (l: string) => run.log(l) };
    try {
      await resolved.plugin.get(resolved.type, { ...(request.since !== undefined ? { since: request.since } : {}), ...(request.until !== undefined ? { until: request.until } : {}) }, raw, ctl);
      const kept = await filterFile(raw, out, new LineFilter({ ...(request.searchText !== undefined ? { searchText: request.searchText } : {}), ...(request.lines !== undefined ? { lines: request.lines } : {}) }));
      run.log(`uploading ${kept} lines`);
      const tls = clientTls(ctx.config);
      await uploadFile(tedgeUrl, out, { ...ctl, contentType: 'text/plain; charset=utf-8', ...(tls ? { tls } : {}) });
    } catch (e) {
      return { status: 'failed', reason: `log_upload of '${request.type}' failed: ${errorMessage(e)}`, payload: { tedgeUrl } };
    } finally {
      await rm(raw, { force: true });
      await rm(out, { force: true });
    }
    return { status: 'successful', payload: { tedgeUrl } };
  }

  /** Collecting a log again is harmless: after an agent restart the command is run again. */
  resume(run: CommandRun): Promise<Outcome> {
    run.log('the agent restarted during this command: running it again');
    return this.execute(run);
  }
}

/** Streams `from` line by line through the filter into `to`; returns the number of lines kept. */
async function filterFile(from: string, to: string, filter: LineFilter): Promise<number> {
  const lines = createInterface({ input: createReadStream(from), crlfDelay: Infinity });
  for await (const line of lines) filter.push(line);
  const kept = filter.result();
  const w = createWriteStream(to);
  for (const line of kept) if (!w.write(`${line}\n`)) await new Promise<void>((r) => w.once('drain', () => r()));
  w.end();
  await finished(w);
  return kept.length;
}
