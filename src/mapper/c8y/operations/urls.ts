import { isIP } from 'node:net';
import type { OperationsOptions } from './options';

/** `sample.c8y.io` → `c8y.io`: the domain without its first label (thin-edge `maybe_tenant_url`). */
function parentDomain(host: string): string {
  const dot = host.indexOf('.');
  return dot < 0 ? host : host.slice(dot + 1);
}

/**
 * Whether a URL host is the tenant's: the host of c8y.url / c8y.http / c8y.mqtt itself, or, as in thin-edge,
 * a name in the same domain, because a tenant is reached both as `<tenant-name>.<domain>` and `t<id>.<domain>`.
 */
export function isTenantHost(urlHost: string, tenantHosts: readonly string[]): boolean {
  const host = urlHost.toLowerCase();
  for (const raw of tenantHosts) {
    const tenant = raw.toLowerCase().replace(/:\d+$/, '');
    if (tenant === '') continue;
    if (host === tenant) return true;
    if (isIP(host) === 0 && isIP(tenant) === 0 && parentDomain(host) === parentDomain(tenant)) return true;
  }
  return false;
}

/**
 * A URL on the Cumulocity tenant → the same path through the local proxy, which adds the credentials
 * the device's downloader does not have. External URLs, and text that is not a URL, are returned as is.
 */
export function proxyUrl(url: string, opts: Pick<OperationsOptions, 'c8yHost' | 'c8yHosts' | 'c8yProxyBase'>): string {
  const hosts = [...(opts.c8yHost !== undefined ? [opts.c8yHost] : []), ...(opts.c8yHosts ?? [])];
  if (hosts.length === 0) return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return url;
  if (!isTenantHost(parsed.hostname, hosts) && !hosts.some((h) => h.toLowerCase() === parsed.host.toLowerCase())) return url;
  return `${opts.c8yProxyBase}${parsed.pathname}${parsed.search}`;
}

/**
 * Where the agent puts an uploaded file: `<fts>/<xid>/<op>/<type>-<cmdId>`.
 * `/` in the type becomes `:` so a type like `/etc/x.conf` does not create directories in the file store.
 */
export function fileTransferUrl(base: string, externalId: string, operation: string, type: string, cmdId: string): string {
  return `${base}/${externalId}/${operation}/${type.replace(/\//g, ':')}-${cmdId}`;
}
