import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { generatePrivateKey } from '../../../src/certs/key-pair';
import { certificateInfo, formatCertificateInfo, humanDuration, rfc2822, validityStatus, type ValidityStatus } from '../../../src/certs/inspect';
import { DAY_MS, NOW, selfSigned } from './cert-fixtures';

describe('certificate inspection', () => {
  it('thumbprint is the SHA-1 of the DER in upper-case hex, as node and Cumulocity show it', async () => {
    const cert = new X509Certificate(await selfSigned(generatePrivateKey()));
    const info = certificateInfo(cert);
    assert.equal(info.thumbprint, cert.fingerprint.replaceAll(':', ''));
    assert.match(info.thumbprint, /^[0-9A-F]{40}$/);
    assert.equal(info.serialHex, cert.serialNumber.toUpperCase());
  });

  const validFrom = new Date(NOW.getTime() - DAY_MS);
  const validTo = new Date(NOW.getTime() + 10 * DAY_MS);
  const statuses: Array<[string, Date, ValidityStatus]> = [
    ['now', NOW, { kind: 'valid', expiresInMs: 10 * DAY_MS }],
    ['at notAfter', validTo, { kind: 'valid', expiresInMs: 0 }],
    ['a second after notAfter', new Date(validTo.getTime() + 1000), { kind: 'expired', sinceMs: 1000 }],
    ['a day before notBefore', new Date(validFrom.getTime() - DAY_MS), { kind: 'not-yet-valid', validInMs: DAY_MS }],
  ];
  for (const [name, at, expected] of statuses) {
    it(`status ${name} is ${expected.kind}`, () => assert.deepEqual(validityStatus({ notBefore: validFrom, notAfter: validTo }, at), expected));
  }

  const durations: Array<[number, string]> = [
    [0, '0s'],
    [999, '0s'],
    [61_000, '1m 1s'],
    [DAY_MS + 3_600_000, '1d 1h'],
    [364 * DAY_MS + 23 * 3_600_000 + 59 * 60_000 + 58_000, '364d 23h 59m 58s'],
  ];
  for (const [ms, text] of durations) it(`${ms} ms reads ${text}`, () => assert.equal(humanDuration(ms), text));

  it('dates read as thin-edge prints them', () => assert.equal(rfc2822(new Date('2021-03-31T15:39:57Z')), 'Wed, 31 Mar 2021 15:39:57 +0000'));

  it('show prints every field on its own labelled line', async () => {
    const info = certificateInfo(new X509Certificate(await selfSigned(generatePrivateKey(), 'dev-1', NOW, 10 * DAY_MS)));
    const lines = formatCertificateInfo('/c.pem', info, NOW).split('\n');
    assert.deepEqual(lines.slice(0, 7), [
      'Certificate:   /c.pem',
      'Device id:     dev-1',
      'Subject:       CN=dev-1, O=Thin Edge, OU=Device',
      'Issuer:        CN=dev-1, O=Thin Edge, OU=Device',
      'Status:        VALID (expires in: 10d)',
      'Valid from:    Fri, 14 Jun 2030 12:00:00 +0000',
      'Valid up to:   Tue, 25 Jun 2030 12:00:00 +0000',
    ]);
    assert.equal(lines[7], `Serial number: ${BigInt(`0x${info.serialHex}`)} (0x${info.serialHex.toLowerCase()})`);
    assert.equal(lines[8], `Thumbprint:    ${info.thumbprint}`);
  });
});
