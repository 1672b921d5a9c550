import type { IncomingMessage } from 'node:http';
import { readSnippet } from '../../../agent/transfer/http-client';
import { TransferError, displayUrl } from '../../../agent/transfer/transfer-error';
import type { C8yHttpClient } from './c8y-client';
import type { FileTransferClient } from './file-transfer';

export interface DownloadDeps {
  readonly client: C8yHttpClient;
  readonly files: FileTransferClient;
  /** `http://<c8y.proxy.client.host>:<port>/c8y`: URLs already rewritten to the proxy are on the tenant too. */
  readonly proxyBase: string;
  /** Host of c8y.url (and of c8y.http): URLs there need the device's credentials. */
  readonly tenantHosts: readonly string[];
}

/** The path on the tenant of a URL that needs the device's credentials; undefined for any other URL. */
export function tenantPath(url: string, proxyBase: string, tenantHosts: readonly string[]): string | undefined {
  if (url.startsWith(`${proxyBase}/`)) return url.slice(proxyBase.length);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const hosts = tenantHosts.map((h) => h.toLowerCase());
  return hosts.includes(u.hostname.toLowerCase()) || hosts.includes(u.host.toLowerCase()) ? `${u.pathname}${u.search}` : undefined;
}

/**
 * Downloads `url` into the file transfer service at `path` (relative to `/te/v1/files/`) and returns the
 * file's URL there, for a command's `tedgeUrl`: a Cumulocity binary is fetched with the device's
 * credentials, so the agent never needs them; another URL is fetched as is. Streamed, never held in memory;
 * a failure is one TransferError naming the URL (without credentials) and the cause.
 */
export async function downloadToFileTransfer(url: string, path: string, deps: DownloadDeps, signal: AbortSignal = new AbortController().signal): Promise<string> {
  const target = deps.files.urlOf(path);
  const onTenant = tenantPath(url, deps.proxyBase, deps.tenantHosts);
  let res: IncomingMessage;
  if (onTenant !== undefined) {
    res = await deps.client.request({ method: 'GET', path: onTenant, signal });
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) {
      const snippet = await readSnippet(res);
      throw new TransferError(`download of ${displayUrl(url)} failed: HTTP ${status}${snippet ? `: ${snippet}` : ''}`, { status });
    }
  } else {
    res = (await deps.files.get(url, signal)).body;
  }
  const contentType = res.headers['content-type'];
  try {
    await deps.files.put(target, res, signal, contentType);
  } finally {
    res.destroy();
  }
  return target;
}
