import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { urlHost } from '../config/keys';
import type { TedgeConfig } from '../config/tedge-config';
import type { Clock } from '../core/clock';
import { TedgeError, errorMessage } from '../core/errors';
import { createDeviceCsr } from '../certs/device-certificate';
import { estCsrBody, pkcs7ToPem } from '../certs/est';
import { writeFileAtomic } from '../certs/files';
import { deviceCertPaths } from '../certs/paths';
import { type CandidateCertificate, installCandidate } from '../certs/renewal';
import { certificateInfo } from '../certs/inspect';
import { readCertificate } from '../certs/validate';
import { BasicAuth, C8yHttpClient, C8yHttpError, tenantBaseUrl, outgoingProxy } from '../mapper/c8y/http';
import { readCaBundle } from '../mapper/c8y/http/tls';
import { c8yProxyClient } from './local-http';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** thin-edge generates a 32-character alphanumeric one-time password when none is given. */
export function generateOneTimePassword(length = 32): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return out;
}

async function postCsr(client: C8yHttpClient, path: string, csrPem: string): Promise<{ status: number; text: string }> {
  const res = await client.request({ method: 'POST', path, headers: { 'content-type': 'application/pkcs10' }, body: Buffer.from(estCsrBody(csrPem)) });
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return { status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') };
}

function c8yMessage(text: string): string {
  try {
    const v = JSON.parse(text) as { message?: unknown };
    return typeof v.message === 'string' ? `: ${v.message}` : '';
  } catch {
    return '';
  }
}

export interface DownloadOptions {
  readonly deviceId: string;
  readonly oneTimePassword: string;
  readonly retryEveryMs: number;
  readonly maxTimeoutMs: number;
  readonly clock: Clock;
  readonly log: (line: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * `tedge cert download c8y` (thin-edge's download.rs): a CSR with the device key, then EST simpleenroll on
 * the tenant with basic auth `<device id>:<one-time password>`, polled until the device is registered
 * (approved) in Cumulocity; the certificate signed by the tenant's CA becomes device.cert_path.
 */
export async function downloadCertificateFromC8y(config: TedgeConfig, opts: DownloadOptions): Promise<string> {
  const endpoint = config.text('c8y.http');
  if (endpoint === undefined) throw new TedgeError('CONFIG_INVALID_VALUE', 'c8y.url is not set: tedge config set c8y.url <tenant>.cumulocity.com');
  const csr = await createDeviceCsr(config, { deviceId: opts.deviceId });
  const csrPem = readFileSync(csr.csrPath, 'utf8');
  const client = new C8yHttpClient({
    baseUrl: tenantBaseUrl(endpoint),
    auth: new BasicAuth(() => ({ username: opts.deviceId, password: opts.oneTimePassword })),
    ca: readCaBundle(config.string('c8y.root_cert_path'), 'c8y.root_cert_path'),
    maxTries: 1,
    ...proxyOf(config, endpoint),
  });
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = opts.clock.now().getTime();
  try {
    for (;;) {
      try {
        const answer = await postCsr(client, '/.well-known/est/simpleenroll', csrPem);
        if (answer.status === 200) {
          const pem = pkcs7ToPem(answer.text);
          const { certPath } = deviceCertPaths(config);
          writeFileAtomic(certPath, pem, 0o644);
          return certPath;
        }
        opts.log(`The device ${opts.deviceId} is not registered yet on ${endpoint}: HTTP ${answer.status}${c8yMessage(answer.text)}`);
      } catch (e) {
        if (e instanceof TedgeError && e.code === 'CERT_INVALID') throw e;
        opts.log(`Fail to connect to ${endpoint}: ${errorMessage(e)}`);
      }
      if (opts.clock.now().getTime() - started + opts.retryEveryMs > opts.maxTimeoutMs) {
        throw new TedgeError('IO', 'Maximum timeout elapsed. No certificate has been downloaded');
      }
      opts.log(`Will retry in ${Math.round(opts.retryEveryMs / 1000)} seconds`);
      await sleep(opts.retryEveryMs);
    }
  } finally {
    client.close();
  }
}

/**
 * `tedge cert renew --ca c8y` (thin-edge's renew.rs): a CSR for the current device id, EST simplereenroll
 * through the local proxy (the mapper authenticates with the current certificate's JWT); the answer is the
 * candidate `<cert>.new`, used from the next successful connection.
 */
export async function renewWithC8yCa(config: TedgeConfig): Promise<CandidateCertificate> {
  const { certPath } = deviceCertPaths(config);
  const deviceId = certificateInfo(readCertificate(certPath)).deviceId;
  const csr = await createDeviceCsr(config, { deviceId });
  const client = c8yProxyClient(config);
  try {
    const answer = await postCsr(client, '/.well-known/est/simplereenroll', readFileSync(csr.csrPath, 'utf8'));
    if (answer.status !== 200) throw new TedgeError('IO', `the Cumulocity CA refused the renewal: HTTP ${answer.status}${c8yMessage(answer.text)}`);
    return installCandidate(config, pkcs7ToPem(answer.text));
  } catch (e) {
    // No answer at all (C8yHttpError without a status): the proxy is not there.
    if (e instanceof TedgeError && !(e instanceof C8yHttpError && e.status === undefined)) throw e;
    throw new TedgeError('IO', `Fail to connect to the Cumulocity proxy (is tedge-mapper-c8y running?): ${errorMessage(e)}`, { cause: e });
  } finally {
    client.close();
  }
}

function proxyOf(config: TedgeConfig, endpoint: string): { proxy?: NonNullable<ReturnType<typeof outgoingProxy>> } {
  const proxy = outgoingProxy(config, urlHost(endpoint));
  return proxy ? { proxy } : {};
}
