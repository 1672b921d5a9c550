import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { planComponents } from '../../../src/cli/run-all';
import { TedgeConfig } from '../../../src/config/tedge-config';

describe('tedge run all: which mappers, cloud profiles included', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tedge-run-all-plan-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const plan = (ini: string, flags: { agent: boolean; mappers?: string[] } = { agent: true }) => {
    writeFileSync(join(dir, 'tedge.ini'), ini);
    return planComponents(TedgeConfig.load(dir), flags);
  };

  it('runs a mapper for each profile whose url is set, besides the default connection', () => {
    const p = plan('[c8y]\nurl = a.example.com\n[c8y.profiles.second]\nurl = b.example.com\n[c8y.profiles.idle.bridge]\ntopic_prefix = c8y-idle\n[az.profiles.hub2]\nurl = h.example.com\n');
    assert.deepEqual(p.mappers, ['c8y']);
    assert.deepEqual(p.profiles, [{ cloud: 'c8y', profile: 'second' }, { cloud: 'az', profile: 'hub2' }]);
    assert.ok(p.reasons.includes('c8y@second: c8y.profiles.second.url is set'));
  });

  it('a profile alone is something to run', () => {
    const p = plan('[aws.profiles.x]\nurl = x.example.com\n');
    assert.deepEqual(p.mappers, []);
    assert.deepEqual(p.profiles, [{ cloud: 'aws', profile: 'x' }]);
    assert.ok(!p.reasons.some((r) => r.startsWith('no mapper')));
  });

  it('--mappers lists exactly what runs: no profile then', () => {
    assert.deepEqual(plan('[c8y.profiles.second]\nurl = b.example.com\n', { agent: true, mappers: ['c8y'] }).profiles, []);
  });
});
