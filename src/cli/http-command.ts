import { createReadStream, statSync } from 'node:fs';
import type { Command } from 'commander';
import { TedgeError, errorMessage } from '../core/errors';
import type { CommandContext } from './context';
import { localHttpClient } from './local-http';

interface HttpFlags {
  data?: string;
  file?: string;
  contentType?: string;
  acceptType?: string;
}

type Verb = 'get' | 'post' | 'put' | 'patch' | 'delete';

const KIND = (status: number): string => (status >= 400 && status < 500 ? 'HTTP client error' : status >= 500 ? 'HTTP server error' : 'HTTP error');

/**
 * `tedge http get|post|put|patch|delete <uri> [content]` (thin-edge's `tedge http`): the body of a 2xx
 * answer on stdout, anything else one error line with the status and the start of the answer.
 */
export function registerHttpCommand(program: Command, context: () => CommandContext): void {
  const http = program.command('http').description('send requests to the local HTTP servers: /c8y/... through the Cumulocity proxy (credentials added), /te/... to the agent');
  const verbs: ReadonlyArray<[Verb, boolean]> = [
    ['get', false],
    ['post', true],
    ['put', true],
    ['patch', true],
    ['delete', false],
  ];
  for (const [verb, withBody] of verbs) {
    const cmd = http.command(verb).description(`${verb.toUpperCase()} a local URI, e.g. /c8y/inventory/managedObjects or /te/v1/entities`).argument('<uri>', 'target URI: /c8y/... or /te/...');
    if (withBody) {
      cmd
        .argument('[content]', 'content to send')
        .option('--data <content>', 'content to send')
        .option('--file <path>', 'send this file (streamed)')
        .option('--content-type <mime>', 'MIME type of the content (default application/json for text content)');
    }
    cmd.option('--accept-type <mime>', 'MIME type of the expected answer');
    cmd.action(async (uri: string, ...rest: unknown[]) => {
      const content = withBody ? (rest[0] as string | undefined) : undefined;
      const flags = (withBody ? rest[1] : rest[0]) as HttpFlags;
      await send(context(), verb, uri, content, flags);
    });
  }
}

async function send(ctx: CommandContext, verb: Verb, uri: string, content: string | undefined, flags: HttpFlags): Promise<void> {
  const sources = [content, flags.data, flags.file].filter((s) => s !== undefined);
  if (sources.length > 1) throw new TedgeError('USAGE', 'give the content once: as an argument, with --data or with --file');
  if ((verb === 'post' || verb === 'put' || verb === 'patch') && sources.length === 0) throw new TedgeError('USAGE', `${verb} needs content: an argument, --data or --file`);
  const headers: Record<string, string> = {};
  let body: Buffer | ReturnType<typeof createReadStream> | undefined;
  if (flags.file !== undefined) {
    let size: number;
    try {
      size = statSync(flags.file).size;
    } catch (e) {
      throw new TedgeError('IO', `cannot read ${flags.file}: ${errorMessage(e)}`, { cause: e });
    }
    headers['content-length'] = String(size);
    headers['content-type'] = flags.contentType ?? 'application/octet-stream';
    body = createReadStream(flags.file);
  } else if (content !== undefined || flags.data !== undefined) {
    body = Buffer.from(content ?? flags.data ?? '');
    headers['content-type'] = flags.contentType ?? 'application/json';
  }
  if (flags.acceptType !== undefined) headers['accept'] = flags.acceptType;
  const client = localHttpClient(ctx.config(), uri);
  try {
    const res = await client.request({ method: verb.toUpperCase(), path: uri, headers, ...(body !== undefined ? { body } : {}), ...(ctx.signal ? { signal: ctx.signal } : {}) });
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) {
      for await (const chunk of res) ctx.outBytes(chunk as Buffer);
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8').slice(0, 500).replace(/\s+/g, ' ').trim();
    throw new TedgeError('IO', `${KIND(status)}: ${status} ${res.statusMessage ?? ''}`.trimEnd() + (text ? `: ${text}` : ''));
  } finally {
    client.close();
  }
}
