import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';

export interface FilePart {
  readonly filename: string;
  readonly mimeType: string;
  /** Text fields sent before the file, e.g. `type` (tedge upload c8y). */
  readonly fields?: Readonly<Record<string, string>>;
}

export interface MultipartFrame {
  readonly contentType: string;
  readonly head: Buffer;
  readonly tail: Buffer;
}

function quoted(s: string): string {
  return `"${s.replace(/["\r\n\\]/g, '_')}"`;
}

/** The bytes around a streamed file part of multipart/form-data (RFC 7578), the file part named `file`. */
export function multipartFrame(part: FilePart, boundary = `tedge-${randomBytes(12).toString('hex')}`): MultipartFrame {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(part.fields ?? {})) {
    lines.push(`--${boundary}`, `Content-Disposition: form-data; name=${quoted(name)}`, '', value);
  }
  lines.push(`--${boundary}`, `Content-Disposition: form-data; name="file"; filename=${quoted(part.filename)}`, `Content-Type: ${part.mimeType}`, '', '');
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    head: Buffer.from(lines.join('\r\n')),
    tail: Buffer.from(`\r\n--${boundary}--\r\n`),
  };
}

/** head, the file's bytes as they come, tail: one stream, never the whole file in memory. */
export function multipartStream(frame: MultipartFrame, file: Readable): Readable {
  const out = new PassThrough();
  out.write(frame.head);
  file.on('error', (e) => out.destroy(e));
  file.on('end', () => out.end(frame.tail));
  file.pipe(out, { end: false });
  return out;
}
