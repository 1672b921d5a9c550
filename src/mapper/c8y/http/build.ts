import { urlHost } from '../../../config/keys';
import type { TedgeConfig } from '../../../config/tedge-config';
import { TedgeError, errorMessage } from '../../../core/errors';
import type { Message } from '../../../core/message';
import type { Logger } from '../../../log/logger';
import { localBrokerOptions } from '../../../runtime/local-broker';
import { clientTls, fileTransferScheme } from '../../../agent/transfer/client-tls';
import type { UploadOutcome, UploadRequest } from '../operations';
import { BasicAuth, type C8yAuth, JwtAuth } from './auth';
import { C8yHttpClient } from './c8y-client';
import { authType, credentialsExist, readCredentials } from './credentials';
import { outgoingProxy } from '../../../runtime/outgoing-proxy';
import { C8yEvents } from './events';
import { FileTransferClient } from './file-transfer';
import { C8yHttpSide } from './http-side';
import { IdentityCache } from './identity';
import { JwtSource } from './jwt';
import { C8yProxyServer } from './proxy-server';
import { readCaBundle } from './tls';

/** `https://<c8y.http>`, the port left out when it is 443. */
export function tenantBaseUrl(httpEndpoint: string): string {
  return `https://${httpEndpoint.replace(/:443$/, '')}`;
}

export { outgoingProxy } from '../../../runtime/outgoing-proxy';

/** The HTTP side of `tedge-mapper c8y`, from the configuration; undefined without c8y.url. */
export function buildC8yHttpSide(
  config: TedgeConfig,
  logger: Logger,
  opts: { readonly service: string; readonly uploadFinished: (request: UploadRequest, outcome: UploadOutcome) => Message[]; readonly stop: AbortSignal },
): C8yHttpSide | undefined {
  const c8yUrl = config.text('c8y.url');
  const endpoint = config.text('c8y.http');
  if (c8yUrl === undefined || endpoint === undefined) return undefined;
  const prefix = config.string('c8y.bridge.topic_prefix');
  const credentialsPath = config.string('c8y.credentials_path');
  const type = authType(config.string('c8y.auth_method'), credentialsExist(credentialsPath));
  let publish: (m: Message) => Promise<void> = () => Promise.reject(new TedgeError('MQTT_CONNECT', 'not connected to the local broker yet'));
  const jwt = type === 'certificate' ? new JwtSource({ prefix, publish: (m) => publish(m) }) : undefined;
  const auth: C8yAuth = jwt ? new JwtAuth(jwt) : new BasicAuth(() => readCredentials(credentialsPath));
  const log = logger.child({ component: 'c8y-http' });
  log.info({ auth: type }, 'Cumulocity HTTP authentication');
  let ca: string | undefined;
  try {
    ca = readCaBundle(config.string('c8y.root_cert_path'), 'c8y.root_cert_path');
  } catch (e) {
    log.error({ error: errorMessage(e) }, 'Cumulocity HTTP: the trusted roots cannot be read; using the system defaults');
  }
  const upstream = outgoingProxy(config, urlHost(endpoint));
  const client = new C8yHttpClient({ baseUrl: tenantBaseUrl(endpoint), auth, ...(ca !== undefined ? { ca } : {}), ...(upstream ? { proxy: upstream } : {}) });
  const files = new FileTransferClient(`${fileTransferScheme(config)}://${config.string('http.client.host')}:${config.number('http.client.port')}/te/v1/files`, clientTls(config));
  const proxyCert = config.text('c8y.proxy.cert_path');
  const proxy = new C8yProxyServer(
    {
      address: config.string('c8y.proxy.bind.address'),
      port: config.number('c8y.proxy.bind.port'),
      ...(proxyCert !== undefined ? { certPath: proxyCert } : {}),
      ...optional('keyPath', config.text('c8y.proxy.key_path')),
      ...optional('caPath', config.text('c8y.proxy.ca_path')),
    },
    client,
    log,
  );
  const scheme = proxyCert !== undefined ? 'https' : 'http';
  const identity = new IdentityCache(client);
  return new C8yHttpSide({
    prefix,
    topicRoot: config.string('mqtt.topic_root'),
    mqtt: { ...localBrokerOptions(config), clientId: `${opts.service}-http` },
    client,
    events: new C8yEvents(client, identity),
    identity,
    files,
    proxy,
    jwt,
    bindJwt: (p) => (publish = p),
    download: {
      proxyBase: `${scheme}://${config.string('c8y.proxy.client.host')}:${config.number('c8y.proxy.client.port')}/c8y`,
      tenantHosts: [...new Set([urlHost(c8yUrl), endpoint, urlHost(endpoint)])],
    },
    uploadFinished: opts.uploadFinished,
    logger: log,
    stop: opts.stop,
  });
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}
