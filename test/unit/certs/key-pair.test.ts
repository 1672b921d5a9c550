import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { writeFileAtomic } from '../../../src/certs/files';
import { generatePrivateKey, readOrCreatePrivateKey, readPrivateKey, writePrivateKey } from '../../../src/certs/key-pair';
import { isCertError, tempConfigDir } from './cert-fixtures';

describe('private keys', () => {
  let t: ReturnType<typeof tempConfigDir>;
  beforeEach(() => (t = tempConfigDir('keys')));
  afterEach(() => t.cleanup());

  it('generates EC P-256 keys', () => {
    const key = generatePrivateKey();
    assert.equal(key.asymmetricKeyType, 'ec');
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });

  it('writes PKCS#8 PEM with mode 0600, in a directory it creates, and leaves no temp file', () => {
    const path = join(t.dir, 'certs', 'key.pem');
    writePrivateKey(path, generatePrivateKey());
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.match(readFileSync(path, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
    assert.deepEqual(readdirSync(join(t.dir, 'certs')), ['key.pem']);
  });

  it('gives files exactly the mode asked for, whatever the umask', () => {
    const old = process.umask(0o077);
    try {
      writeFileAtomic(join(t.dir, 'cert.pem'), 'x', 0o644);
    } finally {
      process.umask(old);
    }
    assert.equal(statSync(join(t.dir, 'cert.pem')).mode & 0o777, 0o644);
  });

  it('replacing a file keeps readers on the old or the new content (rename, not rewrite)', () => {
    const path = join(t.dir, 'f');
    writeFileAtomic(path, 'old', 0o644);
    const before = statSync(path).ino;
    writeFileAtomic(path, 'new', 0o644);
    assert.equal(readFileSync(path, 'utf8'), 'new');
    assert.notEqual(statSync(path).ino, before);
  });

  it('reads back the key it wrote', () => {
    const path = join(t.dir, 'key.pem');
    const key = generatePrivateKey();
    writePrivateKey(path, key);
    assert.ok(readPrivateKey(path).equals(key));
  });

  it('reuses an existing key and creates one only when there is none', () => {
    const path = join(t.dir, 'key.pem');
    const first = readOrCreatePrivateKey(path);
    assert.equal(first.created, true);
    const text = readFileSync(path, 'utf8');
    const second = readOrCreatePrivateKey(path);
    assert.equal(second.created, false);
    assert.ok(second.key.equals(first.key));
    assert.equal(readFileSync(path, 'utf8'), text);
  });

  it('a missing key is CERT_KEY_MISSING, naming the path', () => {
    const path = join(t.dir, 'nope.pem');
    assert.throws(() => readPrivateKey(path), isCertError('CERT_KEY_MISSING', new RegExp(`private key not found: ${path}$`)));
  });

  it('a file that is not a key is CERT_KEY_INVALID, and is not replaced by readOrCreate', () => {
    const path = join(t.dir, 'garbage.pem');
    writeFileSync(path, 'not a key');
    assert.throws(() => readOrCreatePrivateKey(path), isCertError('CERT_KEY_INVALID', /not a PEM private key: .*garbage\.pem/));
    assert.equal(readFileSync(path, 'utf8'), 'not a key');
    assert.ok(existsSync(path));
  });
});
