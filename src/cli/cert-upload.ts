import { existsSync, readFileSync } from 'node:fs';
import { urlHost } from '../config/keys';
import type { TedgeConfig } from '../config/tedge-config';
import { TedgeError, errorMessage } from '../core/errors';
import { candidatePathOf, deviceCertPaths } from '../certs/paths';
import { BasicAuth, C8yHttpClient, readJson, tenantBaseUrl, outgoingProxy } from '../mapper/c8y/http';
import { readCaBundle } from '../mapper/c8y/http/tls';

export interface CertUploadResult {
  readonly certPath: string;
  readonly renewed: boolean;
  readonly created: boolean;
}

/**
 * `tedge cert upload c8y` (thin-edge's upload.rs): the tenant of the user (GET /tenant/currentTenant),
 * then the device certificate (the renewed `<cert>.new` when there is one) posted to its trusted
 * certificates with auto-registration, named after the device. 409 means it is already there.
 */
export async function uploadCertificateToC8y(config: TedgeConfig, user: string, password: string): Promise<CertUploadResult> {
  const endpoint = config.text('c8y.http');
  if (endpoint === undefined) throw new TedgeError('CONFIG_INVALID_VALUE', 'c8y.url is not set: tedge config set c8y.url <tenant>.cumulocity.com');
  const { certPath } = deviceCertPaths(config);
  const candidate = candidatePathOf(certPath);
  const renewed = existsSync(candidate);
  const path = renewed ? candidate : certPath;
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TedgeError('CERT_MISSING', `cannot read the device certificate ${path}: ${errorMessage(e)}; create one with: tedge cert create --device-id <id>`, { cause: e });
  }
  const client = new C8yHttpClient({
    baseUrl: tenantBaseUrl(endpoint),
    auth: new BasicAuth(() => ({ username: user, password })),
    ca: readCaBundle(config.string('c8y.root_cert_path'), 'c8y.root_cert_path'),
    maxTries: 1,
    ...proxyOf(config, endpoint),
  });
  try {
    const tenant = await client.json('GET', '/tenant/currentTenant');
    const name = tenant['name'];
    if (typeof name !== 'string') throw new TedgeError('IO', 'GET /tenant/currentTenant on Cumulocity: the answer has no tenant name');
    const body = Buffer.from(JSON.stringify({ name: config.deviceId(), certInPemFormat: pem, autoRegistrationEnabled: true, status: 'ENABLED' }));
    const route = `/tenant/tenants/${encodeURIComponent(name)}/trusted-certificates`;
    const res = await client.request({ method: 'POST', path: route, headers: { 'content-type': 'application/json', accept: 'application/json' }, body });
    if (res.statusCode === 409) {
      res.resume();
      return { certPath: path, renewed, created: false };
    }
    await readJson(res, `POST ${route}`);
    return { certPath: path, renewed, created: true };
  } finally {
    client.close();
  }
}

function proxyOf(config: TedgeConfig, endpoint: string): { proxy?: NonNullable<ReturnType<typeof outgoingProxy>> } {
  const proxy = outgoingProxy(config, urlHost(endpoint));
  return proxy ? { proxy } : {};
}
