import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CONFIG_KEYS, type ConfigKey } from '../../../src/config/keys';
import { TedgeConfig } from '../../../src/config/tedge-config';
import { formatValue, parseValue } from '../../../src/config/value-types';
import { prng } from '../native/support';

/** A valid text for each key, drawn from the key's type, so that every key of the table can take part. */
function sample(key: ConfigKey, rand: () => number): string {
  const def = CONFIG_KEYS[key];
  const n = Math.floor(rand() * 1000);
  switch (def.type) {
    case 'boolean':
      return rand() < 0.5 ? 'true' : 'false';
    case 'integer':
      return String(n);
    case 'port':
      return String(1 + n);
    case 'duration':
      return [`${n}s`, `${n}m 5s`, String(n), `${n}h`][n % 4] ?? '1s';
    case 'path':
      return `/var/x-${n}/file with space=${n}.pem`;
    case 'ip-address':
      return n % 2 === 0 ? `10.0.${n % 256}.1` : '::1';
    case 'enum':
      return def.values?.[n % def.values.length] ?? '';
    case 'string-list':
      return `te/${n}/+,a;b`;
    case 'topic-id':
      return `device/child-${n}//`;
    case 'host-port':
      return `host-${n}.example.com:${1 + n}`;
    case 'topic-prefix':
      return `c8y-${n}`;
    case 'url':
      return `tenant-${n}.example.com`;
    case 'string':
      return [`plain ${n}`, `"quoted" ${n}`, `semi;colon #${n}`, `  spaced  `, `=eq[${n}]`][n % 5] ?? 'x';
  }
}

/**
 * Random sets of keys, set in random order (and some unset again), through tedge.ini and through
 * tedge.toml: whatever the order, every key reads back as set. This is the property a parent
 * section written after a child section once broke.
 */
describe('tedge config set, then read back (random keys in random order)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tedge-roundtrip-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // device.id is read-only once a certificate exists; none does here, but its value has no checks to exercise.
  const keys = (Object.keys(CONFIG_KEYS) as ConfigKey[]).filter((k) => k !== 'device.id');

  it('no key is also a table of other keys (tedge.toml could not hold both)', () => {
    const clashes = keys.flatMap((a) => keys.filter((b) => b.startsWith(`${a}.`)).map((b) => `${a} / ${b}`));
    assert.deepEqual(clashes, []);
  });

  for (const format of ['ini', 'toml'] as const) {
    it(`keeps every key in tedge.${format} (150 seeded runs)`, () => {
      const rand = prng(format === 'ini' ? 20261201 : 4242);
      for (let run = 0; run < 150; run++) {
        rmSync(join(dir, 'tedge.ini'), { force: true });
        rmSync(join(dir, 'tedge.toml'), { force: true });
        if (format === 'toml') writeFileSync(join(dir, 'tedge.toml'), '');
        const chosen = keys.filter(() => rand() < 0.15).sort(() => rand() - 0.5);
        const expected = new Map<string, string | undefined>();
        for (const key of chosen) {
          const profile = key.startsWith('c8y.') && rand() < 0.2 ? 'second' : undefined;
          const config = TedgeConfig.load(dir);
          if (expected.has(`${profile ?? ''}|${key}`) || rand() < 0.1) {
            config.unset(key, profile);
            expected.set(`${profile ?? ''}|${key}`, undefined);
            continue;
          }
          const text = sample(key, rand);
          config.set(key, text, profile);
          expected.set(`${profile ?? ''}|${key}`, formatValue(parseValue(key, CONFIG_KEYS[key].type, text, CONFIG_KEYS[key])));
        }
        const config = TedgeConfig.load(dir);
        assert.deepEqual(config.warnings, [], `run ${run}`);
        for (const [id, value] of expected) {
          const [profile, key] = id.split('|') as [string, ConfigKey];
          const view = profile === '' ? config : config.forCloud('c8y', profile);
          const stored = view.lookup(key);
          if (value === undefined) assert.notEqual(stored?.source, 'file', `run ${run}: ${id} was unset`);
          else assert.equal(stored?.text, value, `run ${run}: ${id} after setting ${chosen.join(', ')}`);
        }
      }
    });
  }
});
