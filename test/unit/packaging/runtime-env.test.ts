import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../helpers/paths';
import { RUNTIME_ENV_FILE, parseEnvironmentFile, runtimeEnvironment } from '../../helpers/runtime-env';

const UNITS = join(REPO_ROOT, 'packaging', 'systemd');

describe('packaging/runtime.env: the one place of the runtime flags', () => {
  it('parses as an EnvironmentFile, and sh reads the same values', () => {
    const env = runtimeEnvironment();
    assert.ok(Object.keys(env).length > 0);
    const out = execFileSync('sh', ['-c', `set -a; . "${RUNTIME_ENV_FILE}"; set +a; for k in ${Object.keys(env).join(' ')}; do eval "printf '%s=%s\\n' \\"\\$k\\" \\"\\\${$k}\\""; done`], { encoding: 'utf8', env: {} });
    assert.deepEqual(parseEnvironmentFile(out), env);
  });

  it('the parser refuses what systemd and sh would read differently', () => {
    for (const bad of ['NODE_OPTIONS=--a --b', 'X="a\\"b"', 'lower=1', 'X = 1']) assert.throws(() => parseEnvironmentFile(bad), new RegExp('line 1'), bad);
    assert.deepEqual(parseEnvironmentFile('# c\n\nA=1\nB="x y"\n'), { A: '1', B: 'x y' });
  });

  it('every unit reads it and sets NODE_OPTIONS nowhere else; package.sh installs it where the units look', () => {
    const units = readdirSync(UNITS).filter((f) => f.endsWith('.service'));
    assert.ok(units.length >= 6);
    for (const unit of units) {
      const text = readFileSync(join(UNITS, unit), 'utf8');
      assert.match(text, /^EnvironmentFile=\/usr\/lib\/tedge\/runtime\.env$/m, unit);
      assert.deepEqual(text.match(/^Environment=NODE_OPTIONS=.*$/gm), ['Environment=NODE_OPTIONS='], unit);
    }
    assert.match(readFileSync(join(REPO_ROOT, 'scripts', 'package.sh'), 'utf8'), /install -D -m 0644 packaging\/runtime\.env "\$root\/usr\/lib\/tedge\/runtime\.env"/);
  });

  it('scripts/with-runtime-env.sh gives a node process the flags, and V8 applies them', () => {
    const script = join(REPO_ROOT, 'scripts', 'with-runtime-env.sh');
    const out = execFileSync(script, [process.execPath, '-p', "JSON.stringify({ o: process.env.NODE_OPTIONS, semi: require('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size })"], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] },
    });
    const { o, semi } = JSON.parse(out) as { o: string; semi: number };
    assert.equal(o, runtimeEnvironment()['NODE_OPTIONS']);
    const m = /--max-semi-space-size=(\d+)/.exec(o);
    // The young generation is two semi-spaces at most this size (V8's default would let it grow to 16 MiB each).
    if (m) assert.ok(semi <= 2 * Number(m[1]) * 1024 * 1024, `new space ${semi} bytes`);
  });
});
