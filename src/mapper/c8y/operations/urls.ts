import type { OperationsOptions } from './options';

/**
 * A URL on the Cumulocity tenant → the same path through the local proxy, which adds the credentials
 * the device's downloader does not have. External URLs, and text that is not a URL, are returned as is.
 */
export function proxyUrl(url: string, opts: Pick<OperationsOptions, 'c8yHost' | 'c8yProxyBase'>): string {
  if (opts.c8yHost === undefined || opts.c8yHost === '') return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  const host = opts.c8yHost.toLowerCase();
  if (parsed.hostname.toLowerCase() !== host && parsed.host.toLowerCase() !== host) return url;
  return `${opts.c8yProxyBase}${parsed.pathname}${parsed.search}`;
}

/**
 * Where the agent puts an uploaded file: `<fts>/<xid>/<op>/<type>-<cmdId>`.
 * `/` in the type becomes `:` so a type like `/etc/x.conf` does not create directories in the file store.
 */
export function fileTransferUrl(base: string, externalId: string, operation: string, type: string, cmdId: string): string {
  return `${base}/${externalId}/${operation}/${type.replace(/\//g, ':')}-${cmdId}`;
}
