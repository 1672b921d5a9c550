import { defaultSchemeParts } from '../../../core/topics';
import type { EntityTopicId } from '../../../core/topics';

/**
 * The tedgeUrl the agent fills in when a command has none, as thin-edge does:
 * `http[s]://<http.client.host>:<http.client.port>/te/v1/files/<device-name>/<operation>/<type>-<cmd-id>`,
 * `/` of the type replaced by `:`. Undefined for an entity outside the default topic scheme.
 */
export function fileTransferUrl(opts: {
  /** https when the agent's HTTP service has a certificate (http.cert_path and http.key_path). */
  readonly scheme?: 'http' | 'https';
  readonly host: string;
  readonly port: number;
  readonly entity: EntityTopicId;
  readonly operation: string;
  readonly type: string;
  readonly cmdId: string;
}): string | undefined {
  const parts = defaultSchemeParts(opts.entity);
  if (parts === undefined) return undefined;
  const host = opts.host.includes(':') && !opts.host.startsWith('[') ? `[${opts.host}]` : opts.host;
  const file = `${opts.type.replaceAll('/', ':')}-${opts.cmdId}`;
  // Only what a URL path cannot hold is escaped: `:` stays, as in thin-edge's URLs (`mosquitto::plugin-1234`).
  const path = [parts.device, opts.operation, file].map((s) => encodeURIComponent(s).replaceAll('%3A', ':')).join('/');
  return `${opts.scheme ?? 'http'}://${host}:${opts.port}/te/v1/files/${path}`;
}
