import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { bridgeConfPath } from '../connect/cloud-endpoint';
import type { TedgeConfig } from '../config/tedge-config';
import { TedgeError } from '../core/errors';
import { builtInScope } from '../flows/mapper-inventory';
import { isUserMapperName } from '../flows/local-mapper';
import { resolveMapperConfig } from '../flows/user-mapper-config';
import { type Cloud, builtInCloudProfile } from './build';
import { cloudRuleFiles } from './cloud-rule-files';
import type { BridgeRule } from './rules';
import { loadBridgeRuleFiles, readBridgeMapperToml, userMapperRuleLookup } from './user-bridge';

/** What `tedge bridge inspect|test` looks at: a built-in cloud's connection (with its profile) or a user-defined mapper. */
export type BridgeTarget = { readonly cloud: Cloud; readonly profile: string | undefined } | { readonly mapper: string };

/**
 * `c8y`, `az`, `aws` (with `--profile`, or as `c8y.<profile>`, as thin-edge accepts), else a user-defined
 * mapper's name. A name that cannot be a directory of `mappers/` is a usage error.
 */
export function bridgeTarget(name: string, profile: string | undefined): BridgeTarget {
  const scope = builtInScope(name);
  if (scope !== undefined) {
    if (scope.profile !== undefined && profile !== undefined && scope.profile !== profile) throw new TedgeError('USAGE', `'${name}' names profile '${scope.profile}', but --profile says '${profile}'`);
    return { cloud: scope.cloud, profile: scope.profile ?? profile };
  }
  if (!isUserMapperName(name)) throw new TedgeError('USAGE', `not a cloud or mapper name: '${name}' (expected c8y, az, aws or a user-defined mapper: [a-z][a-z0-9-]*, not bridge-*)`);
  return { mapper: name };
}

/** What the bridge of a target does: the lines thin-edge prints before the rules, and the rules. */
export interface EffectiveBridgeRules {
  /** The header, skipped files, or why there are no rules (bridge disabled, not connected, no bridge/). */
  readonly lines: readonly string[];
  /** In the order the bridge tries them; undefined when no bridge runs (the lines say why). */
  readonly rules: readonly BridgeRule[] | undefined;
}

/** thin-edge names the cloud one way in the header and another in "Not connected to …". */
const CLOUD_NAMES: Record<Cloud, { readonly header: string; readonly connection: string }> = {
  c8y: { header: 'Cumulocity', connection: 'Cumulocity' },
  az: { header: 'Azure', connection: 'Azure' },
  aws: { header: 'Aws', connection: 'AWS' },
};

function notConnected(cloud: Cloud, profile: string | undefined): string {
  const name = CLOUD_NAMES[cloud].connection;
  return profile === undefined ? `Not connected to ${name}` : `Not connected to ${name} with profile ${profile}`;
}

/**
 * The rules of `cloud`'s built-in bridge, from the same builder the running bridge uses. As thin-edge, a
 * connection is known by its `mosquitto-conf/<cloud>[@<profile>]-bridge.conf` (tedge connect writes it, empty
 * with the built-in bridge); with `mqtt.bridge.built_in=false` mosquitto bridges, and that file is its config.
 */
function builtInRules(config: TedgeConfig, cloud: Cloud, profile: string | undefined): EffectiveBridgeRules {
  const view = config.forCloud(cloud, profile);
  const conf = bridgeConfPath(config.configDir, cloud, profile);
  const connected = existsSync(conf);
  if (!view.boolean('mqtt.bridge.built_in')) {
    return { lines: ['Built-in bridge is disabled', connected ? `The mosquitto bridge config is stored in ${conf}` : notConnected(cloud, profile)], rules: undefined };
  }
  if (!connected) return { lines: [notConnected(cloud, profile)], rules: undefined };
  const urlKey = profile === undefined ? `${cloud}.url` : `${cloud}.profiles.${profile}.url`;
  // The mapper starts no bridge without a url (prepareBuiltInBridge).
  if ((view.text(`${cloud}.url`) ?? '') === '') return { lines: [`${notConnected(cloud, profile)}: ${urlKey} is not set`], rules: undefined };
  const prefixKey = profile === undefined ? `${cloud}.bridge.topic_prefix` : `${cloud}.profiles.${profile}.bridge.topic_prefix`;
  const lines = [`Bridge configuration for ${CLOUD_NAMES[cloud].header}`];
  if (profile !== undefined) lines.push(`Profile: ${profile}`);
  // Our built-in clouds' rules are code: say what they depend on, then the rule files that add to them.
  lines.push(`Reading from: built-in rules (${prefixKey} = ${view.string(`${cloud}.bridge.topic_prefix`)})`);
  const rules = builtInCloudProfile(view, cloud).rules;
  const { dir, files } = cloudRuleFiles(view, cloud, rules);
  if (files.length > 0) lines.push(`Reading from: ${dir}`);
  for (const f of files) if (f.disabled) lines.push(`Skipping: ${basename(f.path)} (disabled)`);
  lines.push('');
  return { lines, rules };
}

/** The rules of a user-defined mapper's `bridge/*.toml`, expanded as its running bridge expands them. */
function userMapperRules(config: TedgeConfig, name: string): EffectiveBridgeRules {
  const dir = join(config.configDir, 'mappers', name);
  if (!existsSync(dir)) throw new TedgeError('CONFIG_FILE', `Custom mapper '${name}' not found at ${dir}`);
  const bridgeDir = join(dir, 'bridge');
  if (!existsSync(bridgeDir)) {
    return { lines: [`No bridge configuration directory found for custom mapper '${name}'`, `Expected bridge rules at: ${bridgeDir}`], rules: undefined };
  }
  const toml = readBridgeMapperToml(dir);
  const files = loadBridgeRuleFiles(bridgeDir, userMapperRuleLookup(config, toml, resolveMapperConfig(config, toml)));
  const lines = [`Bridge configuration for custom mapper '${name}'`, `Reading from: ${bridgeDir}`, ''];
  for (const f of files) if (f.disabled) lines.push(`Skipping: ${basename(f.path)} (disabled)`);
  const enabled = files.filter((f) => !f.disabled);
  if (enabled.length === 0) return { lines: [...lines, 'No bridge configuration files found.'], rules: undefined };
  const rules = enabled.flatMap((f) => f.rules);
  if (rules.length === 0) lines.push('Bridge config files exist, but no rules were generated');
  return { lines, rules };
}

export function effectiveBridgeRules(config: TedgeConfig, target: BridgeTarget): EffectiveBridgeRules {
  return 'mapper' in target ? userMapperRules(config, target.mapper) : builtInRules(config, target.cloud, target.profile);
}
