import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { generatePrivateKey } from '../../../src/certs/key-pair';
import { certificateInfo } from '../../../src/certs/inspect';
import { createSelfSignedCertificate, serialHex } from '../../../src/certs/self-signed';
import { DAY_MS, isCertError, NOW, selfSigned, tempConfigDir } from './cert-fixtures';

describe('self-signed certificates', () => {
  let t: ReturnType<typeof tempConfigDir>;
  beforeEach(() => (t = tempConfigDir('self-signed')));
  afterEach(() => t.cleanup());

  it('have CN = device id, O and OU, issuer = subject, and the key they were made with', async () => {
    const key = generatePrivateKey();
    const cert = new X509Certificate(await createSelfSignedCertificate({
      subject: { deviceId: 'dev-1', organization: 'Acme', organizationUnit: 'IoT' },
      privateKey: key,
      validityMs: 10 * DAY_MS,
      now: NOW,
    }));
    const info = certificateInfo(cert);
    assert.equal(info.deviceId, 'dev-1');
    assert.equal(info.subject, 'CN=dev-1, O=Acme, OU=IoT');
    assert.equal(info.issuer, info.subject);
    assert.equal(info.selfSigned, true);
    assert.ok(cert.checkPrivateKey(key));
  });

  it('are valid from a day before now (clock skew) until now + the requested duration', async () => {
    const info = certificateInfo(new X509Certificate(await selfSigned(generatePrivateKey(), 'dev-1', NOW, 10 * DAY_MS)));
    assert.equal(info.notBefore.toISOString(), new Date(NOW.getTime() - DAY_MS).toISOString());
    assert.equal(info.notAfter.toISOString(), new Date(NOW.getTime() + 10 * DAY_MS).toISOString());
  });

  it('keep a device id with , and = intact (no DN string parsing)', async () => {
    const cert = new X509Certificate(await selfSigned(generatePrivateKey(), 'a,b=c'));
    assert.equal(certificateInfo(cert).deviceId, 'a,b=c');
  });

  it('get a fresh random serial each time', async () => {
    const key = generatePrivateKey();
    const a = certificateInfo(new X509Certificate(await selfSigned(key))).serialHex;
    const b = certificateInfo(new X509Certificate(await selfSigned(key))).serialHex;
    assert.notEqual(a, b);
    assert.equal(a.length, 32);
  });

  const serials: Array<[string, number, string]> = [
    ['all zero bytes', 0x00, '40000000000000000000000000000000'],
    ['all one bytes', 0xff, '7fffffffffffffffffffffffffffffff'],
    ['0x80 first byte', 0x80, '40808080808080808080808080808080'],
  ];
  for (const [name, byte, expected] of serials) {
    it(`serial from ${name} is positive with no leading zero: ${expected}`, () => {
      assert.equal(serialHex((n) => Buffer.alloc(n, byte)), expected);
    });
  }

  const keys: Array<[string, () => ReturnType<typeof generatePrivateKey>]> = [
    ['EC P-384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey],
    ['RSA 2048', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey],
  ];
  for (const [name, make] of keys) {
    it(`can be made with an existing ${name} key`, async () => {
      const key = make();
      const cert = new X509Certificate(await selfSigned(key));
      assert.ok(cert.checkPrivateKey(key));
      assert.ok(cert.verify(cert.publicKey));
    });
  }

  it('refuse a key type they cannot sign with, in one line', async () => {
    const key = generateKeyPairSync('x25519').privateKey;
    await assert.rejects(selfSigned(key), isCertError('CERT_UNSUPPORTED', /unsupported private key type 'x25519'/));
  });

  it('are real X.509 for openssl: subject, dates, CA, key usage for TLS client auth', async () => {
    const path = join(t.dir, 'cert.pem');
    writeFileSync(path, await selfSigned(generatePrivateKey(), 'dev-1', NOW, 10 * DAY_MS));
    const text = execFileSync('openssl', ['x509', '-noout', '-subject', '-dates', '-ext', 'basicConstraints,keyUsage,extendedKeyUsage', '-in', path], { encoding: 'utf8' });
    assert.match(text, /^subject=CN = dev-1, O = Thin Edge, OU = Device$/m);
    assert.match(text, /^notBefore=Jun 14 12:00:00 2030 GMT$/m);
    assert.match(text, /^notAfter=Jun 25 12:00:00 2030 GMT$/m);
    assert.match(text, /Basic Constraints: critical\n\s+CA:TRUE/);
    assert.match(text, /Key Usage: critical\n\s+Digital Signature, Certificate Sign/);
    assert.match(text, /Extended Key Usage: *\n\s+TLS Web Client Authentication/);
    // and it verifies as its own trust anchor, for TLS client use, at a time it is valid
    const verified = execFileSync('openssl', ['verify', '-CAfile', path, '-purpose', 'sslclient', '-attime', String(NOW.getTime() / 1000), path], { encoding: 'utf8' });
    assert.match(verified, /: OK$/m);
  });
});
