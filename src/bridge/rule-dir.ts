import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseToml } from '../config/toml';
import { type TemplateLookup, bridgeRuleFileEnabled, parseBridgeRuleFile } from './rule-files';
import type { BridgeRule } from './rules';

/** One `bridge/*.toml`: its rules; disabled (no rules) by its file-level `if` or a `<name>.toml.disabled` beside it. */
export interface BridgeRuleFile {
  readonly path: string;
  readonly disabled: boolean;
  readonly rules: readonly BridgeRule[];
}

/**
 * Every `bridge/*.toml`, in file name order. As thin-edge, a `.toml.disabled` marker skips its file (the
 * file is not even read) and `.toml.template` witnesses are not rule files; a file that cannot be read
 * or expanded is an error naming it, since a bridge without some of its rules is not the one configured.
 */
export function loadBridgeRuleFiles(bridgeDir: string, lookup: TemplateLookup): BridgeRuleFile[] {
  const files = readdirSync(bridgeDir)
    .filter((f) => f.endsWith('.toml'))
    .sort();
  return files.map((f) => {
    const path = join(bridgeDir, f);
    if (existsSync(`${path}.disabled`)) return { path, disabled: true, rules: [] };
    const doc = parseToml(readFileSync(path, 'utf8'), path);
    const rules = parseBridgeRuleFile(doc, path, lookup);
    return { path, disabled: !bridgeRuleFileEnabled(doc, path, lookup), rules };
  });
}
