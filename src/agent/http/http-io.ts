import type { IncomingMessage, ServerResponse } from 'node:http';
import { type JsonValue, parseJson } from '../../core/json';

/** A refused request: its status and the text of the `{"error": ...}` body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function sendJson(res: ServerResponse, status: number, value: JsonValue): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Every refusal has the same shape as thin-edge's entity API: `{"error": "..."}`. */
export function sendError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // The unread rest of a refused upload is not worth draining: close the connection after the answer.
  if (status === 413) res.setHeader('connection', 'close');
  sendJson(res, status, { error: message });
}

export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-length': 0 });
  res.end();
}

/** The declared body length, or undefined when chunked or absent. */
export function declaredLength(req: IncomingMessage): number | undefined {
  const header = req.headers['content-length'];
  if (header === undefined || !/^\d+$/.test(header)) return undefined;
  return Number(header);
}

export function tooLarge(limit: number): HttpError {
  return new HttpError(413, `Failed to buffer the request body: length limit exceeded (${limit} bytes)`);
}

/**
 * Reads a small body (entity API JSON) as text, refusing more than `limit` bytes without buffering
 * them: the declared length is checked first, the actual length as it arrives.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = declaredLength(req);
  if (declared !== undefined && declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
      failed = true;
    });
  });
}

/** Entity API bodies are small JSON documents; thin-edge bounds them at 1 MiB too. */
export const JSON_BODY_LIMIT = 1024 * 1024;

/** A JSON request body; bad JSON is a ConversionError (400 for the caller). */
export async function readJson(req: IncomingMessage): Promise<JsonValue> {
  return parseJson(await readBody(req, JSON_BODY_LIMIT));
}
