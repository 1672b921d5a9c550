import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createCsr } from '../../../src/certs/csr';
import { generatePrivateKey } from '../../../src/certs/key-pair';
import { tempConfigDir } from './cert-fixtures';

describe('certificate signing requests', () => {
  let t: ReturnType<typeof tempConfigDir>;
  beforeEach(() => (t = tempConfigDir('csr')));
  afterEach(() => t.cleanup());

  const subjects: Array<[string, string]> = [
    ['dev-1', 'subject=CN = dev-1, O = Thin Edge, OU = Device'],
    ['a,b=c', 'subject=CN = "a,b=c", O = Thin Edge, OU = Device'],
  ];
  for (const [deviceId, expected] of subjects) {
    it(`for ${deviceId}: openssl verifies the signature and reads the subject`, async () => {
      const key = generatePrivateKey();
      const path = join(t.dir, 'req.csr');
      writeFileSync(path, await createCsr({ deviceId, organization: 'Thin Edge', organizationUnit: 'Device' }, key));
      // -verify fails (non-zero exit, execFileSync throws) when the self-signature does not verify
      const out = execFileSync('openssl', ['req', '-verify', '-noout', '-subject', '-in', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      assert.equal(out.trim(), expected);
      const pub = execFileSync('openssl', ['req', '-noout', '-pubkey', '-in', path], { encoding: 'utf8' });
      assert.ok(createPublicKey(pub).equals(createPublicKey(key)), 'the CSR carries the device public key');
    });
  }
});
