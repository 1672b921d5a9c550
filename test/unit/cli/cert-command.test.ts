import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type Clock, fixedClock } from '../../../src/core/clock';
import { type CliRun, assertOneErrorLine, runTedgeIn } from '../../helpers/cli-run';

type Run = CliRun;

const DAY_MS = 24 * 3600 * 1000;
const NOW = new Date('2030-06-15T12:00:00Z');
const at = (days: number): Clock => fixedClock(new Date(NOW.getTime() + days * DAY_MS));

/** Runs `tedge --config-dir <dir> ...args` in-process with a fixed clock, capturing both streams. */
function tedge(dir: string, args: readonly string[], clock: Clock = fixedClock(NOW)): Promise<Run> {
  return runTedgeIn(dir, args, { clock });
}

describe('tedge cert', () => {
  let dir: string;
  let certPath: string;
  let keyPath: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-cli-cert-'));
    certPath = join(dir, 'device-certs', 'tedge-certificate.pem');
    keyPath = join(dir, 'device-certs', 'tedge-private-key.pem');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('create writes a certificate (0644) and a key (0600), then show prints it', async () => {
    const created = await tedge(dir, ['cert', 'create', '--device-id', 'dev-1']);
    assert.equal(created.code, 0, created.err);
    assert.match(created.out, /^Certificate created for device 'dev-1': .*tedge-certificate\.pem\n/);
    assert.equal(statSync(keyPath).mode & 0o777, 0o600);
    assert.equal(statSync(certPath).mode & 0o777, 0o644);

    const shown = await tedge(dir, ['cert', 'show']);
    assert.equal(shown.code, 0, shown.err);
    assert.match(shown.out, new RegExp(`^Certificate: +${certPath}\n`));
    assert.match(shown.out, /^Device id: +dev-1$/m);
    assert.match(shown.out, /^Subject: +CN=dev-1, O=Thin Edge, OU=Device$/m);
    assert.match(shown.out, /^Issuer: +CN=dev-1, O=Thin Edge, OU=Device$/m);
    assert.match(shown.out, /^Status: +VALID \(expires in: 365d\)$/m);
    assert.match(shown.out, /^Valid from: +Fri, 14 Jun 2030 12:00:00 \+0000$/m);
    assert.match(shown.out, /^Valid up to: +Sun, 15 Jun 2031 12:00:00 \+0000$/m);
    assert.match(shown.out, /^Serial number: +\d+ \(0x[0-9a-f]+\)$/m);
    assert.match(shown.out, /^Thumbprint: +[0-9A-F]{40}$/m);
  });

  it('device.id is the CN of the new certificate, and becomes read-only', async () => {
    await tedge(dir, ['config', 'set', 'device.id', 'old-id']);
    await tedge(dir, ['cert', 'create', '--device-id', 'dev-1']);
    assert.deepEqual(await tedge(dir, ['config', 'get', 'device.id']), { code: 0, out: 'dev-1\n', err: '' });
    const set = await tedge(dir, ['config', 'set', 'device.id', 'other']);
    assert.equal(set.code, 1);
    assertOneErrorLine(set, /'device\.id' is read-only/);
  });

  it('certificate.organization and organization_unit go into the subject', async () => {
    await tedge(dir, ['config', 'set', 'certificate.organization', 'Acme']);
    await tedge(dir, ['config', 'set', 'certificate.organization_unit', 'Sensors']);
    await tedge(dir, ['cert', 'create', '--device-id', 'dev-1']);
    assert.match((await tedge(dir, ['cert', 'show'])).out, /^Subject: +CN=dev-1, O=Acme, OU=Sensors$/m);
  });

  it('certificate.validity.requested_duration sets the validity', async () => {
    await tedge(dir, ['config', 'set', 'certificate.validity.requested_duration', '90d']);
    await tedge(dir, ['cert', 'create', '--device-id', 'dev-1']);
    assert.match((await tedge(dir, ['cert', 'show'])).out, /^Status: +VALID \(expires in: 90d\)$/m);
  });

  it('create twice fails in one line and keeps the first certificate', async () => {
    await tedge(dir, ['cert', 'create', '--device-id', 'dev-1']);
    const first = readFileSync(certPath, 'utf8');
    const again = await tedge(dir, ['cert', 'create', '--device-id', 'dev-2']);
    assert.equal(again.code, 1);
    assertOneErrorLine(again, new RegExp(`a certificate already exists: ${certPath}; remove it first with: tedge cert remove$`));
    assert.equal(readFileSync(certPath, 'utf8'), first);
  });

  const usage: Array<[string, string[], number, RegExp]> = [
    ['create without --device-id', ['cert', 'create'], 2, /required option '--device-id <id>'/],
    ['create with an invalid device id', ['cert', 'create', '--device-id', 'a b'], 1, /^error: invalid device id 'a b': use only/],
    ['create-csr without any device id', ['cert', 'create-csr'], 2, /^error: no device id: pass --device-id <id>/],
    ['show without a certificate', ['cert', 'show'], 1, /^error: certificate not found: .*tedge-certificate\.pem; create one with: tedge cert create/],
    ['show --new without a candidate', ['cert', 'show', '--new'], 1, /^error: certificate not found: .*tedge-certificate\.pem\.new; create one with: tedge cert renew$/],
    ['renew without a certificate', ['cert', 'renew', '--ca', 'self-signed'], 1, /^error: no certificate to renew: /],
    ['renew for an unknown cloud', ['cert', 'renew', 'foo'], 2, /^error: unknown cloud 'foo'/],
  ];
  for (const [name, args, code, pattern] of usage) {
    it(`${name}: exit ${code}, one line`, async () => {
      const run = await tedge(dir, args);
      assert.equal(run.code, code, run.err);
      assert.equal(run.out, '');
      assert.match(run.err.trimEnd(), pattern);
      assert.equal(run.err.trimEnd().split('\n').length, 1, run.err);
    });
  }

  it('create-csr reuses the key of the certificate and writes device.csr_path', async () => {
    await tedge(dir, ['cert', 'create', '--device-id', 'dev-1']);
    const key = readFileSync(keyPath, 'utf8');
    const run = await tedge(dir, ['cert', 'create-csr']);
    assert.equal(run.code, 0, run.err);
    const csr = join(dir, 'device-certs', 'tedge.csr');
    assert.equal(run.out, `Certificate signing request created for device 'dev-1': ${csr}\n`);
    assert.equal(readFileSync(keyPath, 'utf8'), key);
    const subject = execFileSync('openssl', ['req', '-verify', '-noout', '-subject', '-in', csr], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(subject.trim(), 'subject=CN = dev-1, O = Thin Edge, OU = Device');
  });

  it('create-csr --device-id --output-path creates a key 0600 when there is none', async () => {
    const out = join(dir, 'elsewhere', 'req.csr');
    const run = await tedge(dir, ['cert', 'create-csr', '--device-id', 'dev-9', '--output-path', out]);
    assert.equal(run.code, 0, run.err);
    assert.equal(statSync(keyPath).mode & 0o777, 0o600);
    assert.match(readFileSync(out, 'utf8'), /^-----BEGIN CERTIFICATE REQUEST-----\n/);
    assert.equal(existsSync(certPath), false);
  });

  it('create after create-csr signs with the key of the request', async () => {
    await tedge(dir, ['cert', 'create-csr', '--device-id', 'dev-1']);
    const key = readFileSync(keyPath, 'utf8');
    const run = await tedge(dir, ['cert', 'create', '--device-id', 'dev-1']);
    assert.match(run.out, /Private key \(reused\)/);
    assert.equal(readFileSync(keyPath, 'utf8'), key);
  });

  it('renew writes a candidate that show --new prints; the current certificate stays', async () => {
    await tedge(dir, ['cert', 'create', '--device-id', 'dev-1']);
    const current = readFileSync(certPath, 'utf8');
    const run = await tedge(dir, ['cert', 'renew', 'c8y'], at(340));
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, new RegExp(`^New certificate written to ${certPath}\\.new\n`));
    assert.equal(readFileSync(certPath, 'utf8'), current);
    const shown = await tedge(dir, ['cert', 'show', '--new'], at(340));
    assert.match(shown.out, new RegExp(`^Certificate: +${certPath}\\.new\n`));
    assert.match(shown.out, /^Status: +VALID \(expires in: 365d\)$/m);
    assert.match((await tedge(dir, ['cert', 'show'], at(340))).out, /^Status: +VALID \(expires in: 25d\)$/m);
  });

  it('renew --ca c8y without a running mapper: one line naming the proxy, no candidate', async () => {
    await tedge(dir, ['cert', 'create', '--device-id', 'dev-1']);
    await tedge(dir, ['config', 'set', 'c8y.proxy.client.port', '1']);
    const run = await tedge(dir, ['cert', 'renew', '--ca', 'c8y']);
    assert.equal(run.code, 1);
    assertOneErrorLine(run, /Fail to connect to the Cumulocity proxy \(is tedge-mapper-c8y running\?\)/);
    assert.equal(existsSync(`${join(dir, 'device-certs', 'tedge-certificate.pem')}.new`), false);
  });

  it('remove deletes the certificate, the key and a candidate; then says there is none', async () => {
    await tedge(dir, ['cert', 'create', '--device-id', 'dev-1']);
    await tedge(dir, ['cert', 'renew']);
    const run = await tedge(dir, ['cert', 'remove']);
    assert.equal(run.code, 0, run.err);
    assert.equal(run.out, `Removed: ${certPath}, ${certPath}.new, ${keyPath}\n`);
    for (const p of [certPath, `${certPath}.new`, keyPath]) assert.equal(existsSync(p), false, p);
    assert.deepEqual(await tedge(dir, ['cert', 'remove']), { code: 0, out: 'There is no certificate to remove\n', err: '' });
    // device.id is free again
    assert.equal((await tedge(dir, ['config', 'set', 'device.id', 'new-id'])).code, 0);
  });

  describe('needs-renewal: exit 0 = renew, 1 = fine, 2 = error', () => {
    // Created at NOW, valid 365 days; certificate.validity.minimum_duration defaults to 30d.
    const cases: Array<[string, Clock, string[], number, RegExp, RegExp | undefined]> = [
      ['fine', at(0), [], 1, /^Certificate does not need renewal: it expires on Sun, 15 Jun 2031 12:00:00 \+0000, in 365d\n$/, undefined],
      ['fine a day before the window', at(334), ['c8y'], 1, /does not need renewal.*in 31d/, undefined],
      ['about to expire', at(340), [], 0, /^Certificate needs renewal: it expires on .*, in 25d \(certificate\.validity\.minimum_duration = 30d\)\n$/, undefined],
      ['expired', at(400), ['c8y'], 0, /^Certificate needs renewal: it expired on Sun, 15 Jun 2031/, undefined],
      ['missing', at(0), ['--cert-path', '/nonexistent/cert.pem'], 2, /^$/, /^error: certificate not found: \/nonexistent\/cert\.pem/],
      ['unknown cloud', at(0), ['mars'], 2, /^$/, /^error: unknown cloud 'mars'/],
    ];
    for (const [name, clock, args, code, out, err] of cases) {
      it(`${name}: exit ${code}`, async () => {
        await tedge(dir, ['cert', 'create', '--device-id', 'dev-1']);
        const run = await tedge(dir, ['cert', 'needs-renewal', ...args], clock);
        assert.equal(run.code, code, run.err);
        assert.match(run.out, out);
        if (err === undefined) assert.equal(run.err, '');
        else assertOneErrorLine(run, err);
      });
    }

    it('once renewed, no renewal is needed while the candidate waits for a connection: 1', async () => {
      await tedge(dir, ['cert', 'create', '--device-id', 'dev-1']);
      assert.equal((await tedge(dir, ['cert', 'needs-renewal'], at(340))).code, 0);
      assert.equal((await tedge(dir, ['cert', 'renew'], at(340))).code, 0);
      const run = await tedge(dir, ['cert', 'needs-renewal'], at(341));
      assert.equal(run.code, 1, run.err);
      assert.match(run.out, /^Certificate renewal pending: it expires on .*; the renewed certificate \(valid up to .*\) waits for a successful connection\n$/);
    });

    it('a larger certificate.validity.minimum_duration asks for renewal earlier', async () => {
      await tedge(dir, ['cert', 'create', '--device-id', 'dev-1']);
      await tedge(dir, ['config', 'set', 'certificate.validity.minimum_duration', '60d']);
      assert.equal((await tedge(dir, ['cert', 'needs-renewal'], at(310))).code, 0);
    });

    it('a bad option is a usage error: 2', async () => {
      assert.equal((await tedge(dir, ['cert', 'needs-renewal', '--bogus'])).code, 2);
    });
  });
});
