import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TedgeConfig } from '../../../src/config/tedge-config';
import { meaFlowSettings, meaFlowToml } from '../../../src/flows/builtin-flows';
import { builtinFlowsDir, installBuiltinFlows } from '../../../src/flows/builtin-flows-dir';
import { c8yFlowSettings, c8yFlowTomls } from '../../../src/flows/c8y-flows';
import { createLogger } from '../../../src/log/logger';
import { REPO_ROOT } from '../../helpers/paths';

const PACKAGED = join(REPO_ROOT, 'packaging', 'mappers');

/** What each built-in mapper writes in its flows directory on a device with default settings (no tedge.ini, no TEDGE_* env). */
function generatedWithDefaults(configDir: string): Record<'c8y' | 'az' | 'aws', Record<string, string>> {
  const config = TedgeConfig.load(configDir, {});
  return {
    c8y: c8yFlowTomls(c8yFlowSettings(config.forCloud('c8y', undefined))),
    az: { mea: meaFlowToml('az', meaFlowSettings('az', config.forCloud('az', undefined))) },
    aws: { mea: meaFlowToml('aws', meaFlowSettings('aws', config.forCloud('aws', undefined))) },
  };
}

function logger(lines: string[]) {
  return createLogger({ name: 'test', level: 'info', format: 'json', write: (l) => void lines.push(l) });
}

describe("the built-in mappers' flows directory", () => {
  const tmp = mkdtempSync(join(tmpdir(), 'builtin-flows-dir-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  // The .deb and the Yocto recipe install packaging/mappers/: it must not drift from what the mappers write.
  // After a change of the generated flows, regenerate with UPDATE_PACKAGED_FLOWS=1 and commit packaging/mappers/.
  it('packaging/mappers/<cloud>/flows/ holds exactly the flows and templates the mappers generate with default settings', () => {
    for (const [cloud, flows] of Object.entries(generatedWithDefaults(join(tmp, 'empty')))) {
      const dir = join(PACKAGED, cloud, 'flows');
      if (process.env['UPDATE_PACKAGED_FLOWS'] === '1') {
        rmSync(dir, { recursive: true, force: true });
        assert.ok(installBuiltinFlows(dir, flows, logger([])));
      }
      const expected = Object.entries(flows).flatMap(([name, toml]) => [[`${name}.toml`, toml], [`${name}.toml.template`, toml]]).sort();
      const shipped = readdirSync(dir).sort().map((file) => [file, readFileSync(join(dir, file), 'utf8')]);
      assert.deepEqual(shipped, expected, `${dir} differs from what tedge-mapper ${cloud} generates: run this test with UPDATE_PACKAGED_FLOWS=1`);
    }
  });

  it('is made when missing, per profile, and holds the installed flows', () => {
    const config = TedgeConfig.load(join(tmp, 'device'), {});
    const dir = builtinFlowsDir(config.forCloud('c8y', 'second'), 'c8y');
    assert.equal(dir, join(tmp, 'device', 'mappers', 'c8y.second', 'flows'));
    const logs: string[] = [];
    assert.equal(installBuiltinFlows(dir, { mea: 'x = 1\n' }, logger(logs)), true);
    assert.deepEqual(readdirSync(dir).sort(), ['mea.toml', 'mea.toml.template']);
    assert.deepEqual(logs, []);
  });

  it('cannot be made or written: false, and one warning naming the path and the cause', () => {
    // A file where the mapper's directory should be fails for root too (a read-only mode would not).
    mkdirSync(join(tmp, 'blocked', 'mappers'), { recursive: true });
    writeFileSync(join(tmp, 'blocked', 'mappers', 'az'), '');
    const dir = join(tmp, 'blocked', 'mappers', 'az', 'flows');
    const logs: string[] = [];
    assert.equal(installBuiltinFlows(dir, { mea: 'x = 1\n' }, logger(logs)), false);
    assert.equal(logs.length, 1);
    const line = JSON.parse(logs[0] ?? '{}') as { level: number; msg: string };
    assert.equal(line.level, 40, 'a warning');
    assert.match(line.msg, new RegExp(`^cannot install the built-in flows in ${dir} \\(.*ENOTDIR.*\\): mapping with the built-in converter instead$`));
  });
});
