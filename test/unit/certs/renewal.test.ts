import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fixedClock } from '../../../src/core/clock';
import { createDeviceCertificate } from '../../../src/certs/device-certificate';
import { certificateInfo } from '../../../src/certs/inspect';
import { generatePrivateKey } from '../../../src/certs/key-pair';
import { candidatePathOf, deviceCertPaths } from '../../../src/certs/paths';
import { candidateCertificate, discardCandidate, installCandidate, promoteCandidate, type RenewalState, renewalDue, renewalState, renewSelfSigned } from '../../../src/certs/renewal';
import { validateDeviceCertificate } from '../../../src/certs/validate';
import { DAY_MS, isCertError, NOW, selfSigned, tempConfigDir } from './cert-fixtures';

describe('two-phase renewal', () => {
  let t: ReturnType<typeof tempConfigDir>;
  let certPath: string;
  let keyPath: string;
  const later = new Date(NOW.getTime() + 300 * DAY_MS);
  beforeEach(async () => {
    t = tempConfigDir('renewal');
    await createDeviceCertificate(t.config(), 'dev-1', fixedClock(NOW));
    ({ certPath, keyPath } = deviceCertPaths(t.config()));
  });
  afterEach(() => t.cleanup());

  it('there is no candidate until a renewal', () => {
    assert.equal(candidateCertificate(t.config()), undefined);
  });

  it('renew writes <cert>.new and keeps the current certificate and the key untouched', async () => {
    const cert = readFileSync(certPath, 'utf8');
    const key = readFileSync(keyPath, 'utf8');
    const candidate = await renewSelfSigned(t.config(), fixedClock(later));
    assert.deepEqual(candidate, { certPath, candidatePath: `${certPath}.new`, keyPath });
    assert.deepEqual(candidateCertificate(t.config()), candidate);
    assert.equal(readFileSync(certPath, 'utf8'), cert);
    assert.equal(readFileSync(keyPath, 'utf8'), key);
    assert.equal(statSync(candidate.candidatePath).mode & 0o777, 0o644);
    // the device keeps its id; the candidate is fresh and works with the same key
    assert.equal(t.config().text('device.id'), 'dev-1');
    const info = validateDeviceCertificate({ certPath: candidate.candidatePath, keyPath }, fixedClock(later));
    assert.equal(info.deviceId, 'dev-1');
    assert.equal(info.notAfter.getTime(), later.getTime() + 365 * DAY_MS);
  });

  it('promote replaces the current certificate by a rename: the same file, not a copy', async () => {
    const candidate = await renewSelfSigned(t.config(), fixedClock(later));
    const text = readFileSync(candidate.candidatePath, 'utf8');
    const inode = statSync(candidate.candidatePath).ino;
    promoteCandidate(t.config());
    assert.equal(readFileSync(certPath, 'utf8'), text);
    assert.equal(statSync(certPath).ino, inode);
    assert.equal(existsSync(candidate.candidatePath), false);
    assert.equal(candidateCertificate(t.config()), undefined);
  });

  it('promote without a candidate fails in one line and leaves the certificate alone', () => {
    const cert = readFileSync(certPath, 'utf8');
    assert.throws(() => promoteCandidate(t.config()), isCertError('CERT_MISSING', /no new certificate to promote: .*tedge-certificate\.pem\.new$/));
    assert.equal(readFileSync(certPath, 'utf8'), cert);
  });

  it('discard drops the candidate and keeps the current certificate', async () => {
    const cert = readFileSync(certPath, 'utf8');
    await renewSelfSigned(t.config(), fixedClock(later));
    assert.equal(discardCandidate(t.config()), true);
    assert.equal(discardCandidate(t.config()), false);
    assert.equal(existsSync(candidatePathOf(certPath)), false);
    assert.equal(readFileSync(certPath, 'utf8'), cert);
  });

  it('a second renewal replaces an earlier candidate that never connected', async () => {
    await renewSelfSigned(t.config(), fixedClock(later));
    const first = readFileSync(candidatePathOf(certPath), 'utf8');
    await renewSelfSigned(t.config(), fixedClock(new Date(later.getTime() + DAY_MS)));
    assert.notEqual(readFileSync(candidatePathOf(certPath), 'utf8'), first);
  });

  it('accepts paths directly, for a connection with its own certificate files', async () => {
    await renewSelfSigned(t.config(), fixedClock(later));
    assert.equal(candidateCertificate({ certPath, keyPath })?.candidatePath, `${certPath}.new`);
  });

  it('an unreadable candidate is reported, not taken for "no candidate"', () => {
    writeFileSync(candidatePathOf(certPath), 'garbage');
    assert.throws(() => candidateCertificate(t.config()), isCertError('CERT_INVALID', /tedge-certificate\.pem\.new$/));
  });

  it('a candidate that does not match the device key is refused before it is written', async () => {
    const foreign = await selfSigned(generatePrivateKey());
    assert.throws(() => installCandidate(t.config(), foreign), isCertError('CERT_KEY_MISMATCH', /does not match the certificate .*\.new$/));
    assert.equal(existsSync(candidatePathOf(certPath)), false);
  });

  it('renewing without a certificate says to create one', async () => {
    const empty = tempConfigDir('renewal-empty');
    try {
      await assert.rejects(renewSelfSigned(empty.config(), fixedClock(NOW)), isCertError('CERT_MISSING', /no certificate to renew: .*; create one with: tedge cert create/));
    } finally {
      empty.cleanup();
    }
  });

  it('the renewed certificate has a new serial and validity but the same subject', async () => {
    const before = certificateInfo(new X509Certificate(readFileSync(certPath)));
    const after = certificateInfo(new X509Certificate(readFileSync((await renewSelfSigned(t.config(), fixedClock(later))).candidatePath)));
    assert.equal(after.subject, before.subject);
    assert.notEqual(after.serialHex, before.serialHex);
    assert.ok(after.notAfter > before.notAfter);
  });
});

describe('renewal due', () => {
  const notAfter = new Date(NOW.getTime() + 30 * DAY_MS);
  const cases: Array<[string, Date, boolean]> = [
    ['expired', new Date(notAfter.getTime() + 1000), true],
    ['expires in 29 days', new Date(NOW.getTime() + DAY_MS), true],
    ['expires in exactly 30 days', NOW, true],
    ['expires in 30 days and a second', new Date(NOW.getTime() - 1000), false],
    ['expires in a year', new Date(notAfter.getTime() - 365 * DAY_MS), false],
  ];
  for (const [name, now, due] of cases) {
    it(`${name} with a 30-day minimum: ${due ? 'due' : 'not due'}`, () => assert.equal(renewalDue({ notAfter }, 30 * DAY_MS, now), due));
  }
});

describe('renewal state (needs-renewal)', () => {
  let t: ReturnType<typeof tempConfigDir>;
  let certPath: string;
  beforeEach(async () => {
    t = tempConfigDir('renewal-state');
    await createDeviceCertificate(t.config(), 'dev-1', fixedClock(NOW)); // valid until NOW + 365d
    certPath = deviceCertPaths(t.config()).certPath;
  });
  afterEach(() => t.cleanup());

  const minimum = 30 * DAY_MS;
  const day = (n: number): Date => new Date(NOW.getTime() + n * DAY_MS);
  const cases: Array<[string, number | 'garbage' | undefined, Date, RenewalState['kind']]> = [
    ['far from expiry, no candidate', undefined, day(0), 'not-due'],
    ['within the minimum, no candidate', undefined, day(340), 'due'],
    ['within the minimum, a fresh candidate', 340, day(341), 'pending'],
    ['within the minimum, a candidate also about to expire', -320, day(341), 'due'],
    ['within the minimum, an unreadable candidate', 'garbage', day(341), 'due'],
    ['far from expiry, a candidate', 10, day(10), 'not-due'],
  ];
  for (const [name, candidateDay, now, kind] of cases) {
    it(`${name}: ${kind}`, async () => {
      if (candidateDay === 'garbage') writeFileSync(candidatePathOf(certPath), 'garbage');
      else if (candidateDay !== undefined) await renewSelfSigned(t.config(), fixedClock(day(candidateDay)));
      assert.equal(renewalState(certPath, minimum, now).kind, kind);
    });
  }

  it('a missing certificate is CERT_MISSING', () => {
    assert.throws(() => renewalState(`${certPath}.none`, minimum, NOW), isCertError('CERT_MISSING', /certificate not found/));
  });
});
