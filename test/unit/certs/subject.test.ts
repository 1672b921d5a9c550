import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commonNameOf, oneLineName, validateDeviceId } from '../../../src/certs/subject';
import { isCertError } from './cert-fixtures';

describe('device id', () => {
  const valid = ['dev-1', 'ThinEdgeDevice', "'?=()*@!%,-.123_id", 'x'.repeat(64)];
  for (const id of valid) it(`accepts ${id}`, () => assert.equal(validateDeviceId(id), id));

  const invalid: Array<[string, RegExp]> = [
    ['', /must not be empty/],
    ['x'.repeat(65), /longer than 64/],
    ['thin edge', /use only/],
    ['thin/edge', /use only/],
    ['thin:edge', /use only/],
    ['thinedge#', /use only/],
    ['thinedge+', /use only/],
  ];
  for (const [id, pattern] of invalid) {
    it(`rejects '${id.slice(0, 20)}'`, () => assert.throws(() => validateDeviceId(id), isCertError('CERT_INVALID_DEVICE_ID', pattern)));
  }
});

describe('names as node:crypto prints them', () => {
  const cns: Array<[string, string | undefined]> = [
    ['CN=dev-1\nO=Thin Edge\nOU=Device', 'dev-1'],
    ['O=Thin Edge\nCN=dev-1', 'dev-1'],
    ['CN=a\\,b=c\\+d\nO=x', 'a,b=c+d'],
    ['CN=back\\\\slash', 'back\\slash'],
    ['O=no common name', undefined],
  ];
  for (const [subject, cn] of cns) it(`CN of ${JSON.stringify(subject)} is ${String(cn)}`, () => assert.equal(commonNameOf(subject), cn));

  it('joins the lines as thin-edge prints a subject', () => {
    assert.equal(oneLineName('CN=dev-1\nO=Thin Edge\nOU=Device'), 'CN=dev-1, O=Thin Edge, OU=Device');
  });
});
