import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fixedClock } from '../../../src/core/clock';
import type { ErrorCode } from '../../../src/core/errors';
import { generatePrivateKey, privateKeyPem } from '../../../src/certs/key-pair';
import { validateDeviceCertificate } from '../../../src/certs/validate';
import { DAY_MS, isCertError, NOW, selfSigned, tempConfigDir } from './cert-fixtures';

/** What the connection code checks before TLS: each broken case fails with its code and one line naming the file. */
describe('device certificate validation', () => {
  let t: ReturnType<typeof tempConfigDir>;
  let certPath: string;
  let keyPath: string;
  beforeEach(() => {
    t = tempConfigDir('validate');
    certPath = join(t.dir, 'cert.pem');
    keyPath = join(t.dir, 'key.pem');
  });
  afterEach(() => t.cleanup());

  /** Writes the files a case needs: a certificate valid 10 days from NOW for `certKey`, and `fileKey` as key. */
  async function setUp(files: { cert?: 'good' | 'garbage'; key?: 'same' | 'other' | 'rsa' | 'garbage' }): Promise<void> {
    const certKey = generatePrivateKey();
    if (files.cert === 'good') writeFileSync(certPath, await selfSigned(certKey, 'dev-1', NOW, 10 * DAY_MS));
    if (files.cert === 'garbage') writeFileSync(certPath, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    const keys = {
      same: () => privateKeyPem(certKey),
      other: () => privateKeyPem(generatePrivateKey()),
      rsa: () => privateKeyPem(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey),
      garbage: () => 'nope',
    };
    if (files.key !== undefined) writeFileSync(keyPath, keys[files.key]());
  }

  const cases: Array<[string, Parameters<typeof setUp>[0], Date, ErrorCode, (p: { cert: string; key: string }) => RegExp]> = [
    ['missing certificate', { key: 'same' }, NOW, 'CERT_MISSING', (p) => new RegExp(`certificate not found: ${p.cert}; create one with: tedge cert create`)],
    ['not a certificate', { cert: 'garbage', key: 'same' }, NOW, 'CERT_INVALID', (p) => new RegExp(`not a PEM X.509 certificate: ${p.cert}$`)],
    ['expired certificate', { cert: 'good', key: 'same' }, new Date(NOW.getTime() + 11 * DAY_MS), 'CERT_EXPIRED', (p) => new RegExp(`certificate expired on Tue, 25 Jun 2030 12:00:00 \\+0000 \\(1d ago\\): ${p.cert}; renew it with: tedge cert renew`)],
    ['certificate not yet valid', { cert: 'good', key: 'same' }, new Date(NOW.getTime() - 2 * DAY_MS), 'CERT_NOT_YET_VALID', (p) => new RegExp(`not valid before Fri, 14 Jun 2030 12:00:00 \\+0000 \\(is the device clock right\\? .*\\): ${p.cert}$`)],
    ['missing key', { cert: 'good' }, NOW, 'CERT_KEY_MISSING', (p) => new RegExp(`private key not found: ${p.key}$`)],
    ['key that is not a key', { cert: 'good', key: 'garbage' }, NOW, 'CERT_KEY_INVALID', (p) => new RegExp(`not a PEM private key: ${p.key}$`)],
    ['key of another certificate', { cert: 'good', key: 'other' }, NOW, 'CERT_KEY_MISMATCH', (p) => new RegExp(`the private key ${p.key} does not match the certificate ${p.cert}$`)],
    ['RSA key for an EC certificate', { cert: 'good', key: 'rsa' }, NOW, 'CERT_KEY_MISMATCH', (p) => new RegExp(`the private key ${p.key} does not match`)],
  ];
  for (const [name, files, at, code, pattern] of cases) {
    it(`${name}: ${code}`, async () => {
      await setUp(files);
      assert.throws(() => validateDeviceCertificate({ certPath, keyPath }, fixedClock(at)), isCertError(code, pattern({ cert: certPath, key: keyPath })));
    });
  }

  it('a valid certificate with its key passes and says who it is', async () => {
    await setUp({ cert: 'good', key: 'same' });
    const info = validateDeviceCertificate({ certPath, keyPath }, fixedClock(NOW));
    assert.equal(info.deviceId, 'dev-1');
  });
});
