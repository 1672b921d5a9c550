import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import { errorMessage } from '../../../core/errors';
import { readSnippet, type TlsOptions } from '../../../agent/transfer/http-client';
import { uploadFile } from '../../../agent/transfer/upload';
import { TransferError, displayUrl } from '../../../agent/transfer/transfer-error';

/**
 * The mapper's side of the agent's file transfer service (`/te/v1/files/...`): read a file the agent
 * put there, put one there, delete one. Bodies are streamed.
 */
export class FileTransferClient {
  constructor(
    /** `http(s)://<http.client.host>:<http.client.port>/te/v1/files` */
    readonly base: string,
    private readonly tls: TlsOptions | undefined,
  ) {}

  urlOf(path: string): string {
    return `${this.base}/${path.replace(/^\/+/, '')}`;
  }

  /** The open body of a 2xx GET, with its length when announced. */
  async get(url: string, signal?: AbortSignal): Promise<{ body: http.IncomingMessage; size: number | undefined }> {
    const res = await this.send('GET', url, signal);
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) {
      const snippet = await readSnippet(res);
      throw new TransferError(`download of ${displayUrl(url)} failed: HTTP ${status}${snippet ? `: ${snippet}` : ''}`, { status });
    }
    const length = res.headers['content-length'];
    return { body: res, size: length === undefined ? undefined : Number(length) };
  }

  async put(url: string, body: Readable, signal: AbortSignal, contentType?: string): Promise<void> {
    await uploadFile(url, body, { signal, ...(contentType ? { contentType } : {}), ...(this.tls ? { tls: this.tls } : {}) });
  }

  /** Best effort: a file left behind is only space. Returns why it failed, if it did. */
  async delete(url: string): Promise<string | undefined> {
    try {
      const res = await this.send('DELETE', url);
      res.resume();
      const status = res.statusCode ?? 0;
      return status >= 200 && status < 300 ? undefined : `HTTP ${status}`;
    } catch (e) {
      return errorMessage(e);
    }
  }

  private send(method: string, url: string, signal?: AbortSignal): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      let target: URL;
      try {
        target = new URL(url);
      } catch (e) {
        reject(new TransferError(`invalid file transfer URL ${JSON.stringify(url)}`, { cause: e }));
        return;
      }
      const options: https.RequestOptions = { method, agent: false, timeout: 30_000, ...(signal ? { signal } : {}), ...(target.protocol === 'https:' && this.tls ? this.tls : {}) };
      const req = target.protocol === 'https:' ? https.request(target, options) : http.request(target, options);
      req.on('timeout', () => req.destroy(new Error('no data for 30000 ms')));
      req.on('error', (e) => reject(new TransferError(`${method} ${displayUrl(url)} failed: ${errorMessage(e)}`, { cause: e })));
      req.on('response', resolve);
      req.end();
    });
  }
}
