import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { estCsrBody, pkcs7ToPem } from '../../../src/certs/est';

describe('EST framing (tedge cert download/renew c8y)', () => {
  it('sends the CSR as bare base64', () => {
    const pem = '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\nAAAA\n-----END CERTIFICATE REQUEST-----\n';
    assert.equal(estCsrBody(pem), 'MIIBAAAA');
    assert.equal(estCsrBody(pem.replace(/CERTIFICATE REQUEST/g, 'NEW CERTIFICATE REQUEST')), 'MIIBAAAA');
  });

  it('reads the certificate out of a base64 PKCS#7 answer (as openssl crl2pkcs7 writes it)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tedge-est-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '1', '-subj', '/CN=est-dev'], { cwd: dir, stdio: 'ignore' });
      const der = execFileSync('openssl', ['crl2pkcs7', '-nocrl', '-certfile', 'c.pem', '-outform', 'DER'], { cwd: dir });
      const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
      const pem = pkcs7ToPem(b64);
      assert.equal(new X509Certificate(pem).fingerprint256, new X509Certificate(readFileSync(join(dir, 'c.pem'))).fingerprint256);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an answer that is not PKCS#7 is one clear error', () => {
    assert.throws(() => pkcs7ToPem('bm90IHBrY3M3'), /did not answer with a PKCS#7 certificate/);
  });
});
