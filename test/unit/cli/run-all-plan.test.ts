import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

  it('runs local with its flows/, and each user-defined mapper directory; not the built-in clouds nor their profiles', () => {
    const mk = (path: string, file?: string): void => {
      mkdirSync(join(dir, 'mappers', path), { recursive: true });
      if (file !== undefined) writeFileSync(join(dir, 'mappers', path, file), '');
    };
    mk('local/flows');
    mk('thingsboard', 'mapper.toml');
    mk('acme/flows');
    mk('empty');
    mk('c8y/flows');
    mk('az.hub2/flows');
    mk('collectd', 'mapper.toml');
    mk('Bad_Name', 'mapper.toml');
    mk('bridge-x', 'mapper.toml');
    const p = plan('[c8y]\nurl = a.example.com\n');
    assert.deepEqual(p.mappers, ['c8y']);
    assert.deepEqual(p.userMappers, ['acme', 'local', 'thingsboard']);
    assert.ok(p.reasons.includes('thingsboard: user-defined mapper in mappers/thingsboard/'));
    assert.ok(p.reasons.some((r) => r.startsWith('mappers/Bad_Name/ skipped')));
    assert.ok(p.reasons.some((r) => r.startsWith('mappers/bridge-x/ skipped')));
    assert.deepEqual(plan('', { agent: true, mappers: ['acme'] }).userMappers, ['acme']);
  });

  it('local without flows/ is not run; a user mapper alone is something to run', () => {
    mkdirSync(join(dir, 'mappers', 'local'), { recursive: true });
    writeFileSync(join(dir, 'mappers', 'local', 'mapper.toml'), '');
    assert.deepEqual(plan('').userMappers, []);
    mkdirSync(join(dir, 'mappers', 'tb', 'flows'), { recursive: true });
    const p = plan('');
    assert.deepEqual(p.userMappers, ['tb']);
    assert.ok(!p.reasons.some((r) => r.startsWith('no mapper')));
  });
});
