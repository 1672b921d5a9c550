import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_KEYS, isConfigKey } from '../config/keys';
import type { TedgeConfig } from '../config/tedge-config';
import { type BridgeRuleFile, loadBridgeRuleFiles } from './rule-dir';
import type { TemplateLookup, TemplateValue } from './rule-files';
import type { BridgeRule, CloudProfile } from './rules';

type Cloud = CloudProfile['cloud'];

/** A tedge setting as a template value: a list setting as a list (what a `[[template_rule]]` iterates over). */
export function configTemplateValue(config: TedgeConfig, key: string): TemplateValue | undefined {
  if (!isConfigKey(key)) return undefined;
  return CONFIG_KEYS[key].type === 'string-list' ? config.list(key) : config.text(key);
}

/**
 * Settings thin-edge's own rule files name that we have no key for, at thin-edge's defaults (none of
 * these features exists here), so that its `mqtt-core.toml` expands to what it does on a default device.
 */
const THIN_EDGE_ONLY: Record<Cloud, Readonly<Record<string, TemplateValue>>> = {
  c8y: { 'smartrest.templates': [], 'smartrest1.templates': [], 'mqtt_service.enabled': false, 'mqtt_service.topics': [] },
  az: {},
  aws: {},
};

/** `<config-dir>/mappers/<cloud>[.<profile>]/bridge/`: where thin-edge 2.x reads a built-in cloud's bridge rules. */
export function cloudBridgeDir(config: TedgeConfig, cloud: Cloud): string {
  const profile = config.scope?.profile;
  return join(config.configDir, 'mappers', profile === undefined ? cloud : `${cloud}.${profile}`, 'bridge');
}

/**
 * `${mapper.<key>}` in a built-in cloud's rule files is the connection's `<cloud>.<key>` (thin-edge names
 * them so: `mapper.bridge.topic_prefix`, `mapper.device.id`), from `config`'s view of that connection (a
 * profile's view gives the profile's values). The built-in bridge authenticates with the device certificate.
 */
export function cloudRuleLookup(config: TedgeConfig, cloud: Cloud): TemplateLookup {
  return (ns, key) => {
    if (ns === 'tedge') return configTemplateValue(config, key);
    if (ns === 'connection') return key === 'auth_method' ? 'certificate' : undefined;
    if (ns !== 'mapper') return undefined;
    if (key === 'device.id') {
      try {
        return config.deviceId();
      } catch {
        return undefined;
      }
    }
    if (key.startsWith('device.') && isConfigKey(key)) return configTemplateValue(config, key);
    return configTemplateValue(config, `${cloud}.${key}`) ?? THIN_EDGE_ONLY[cloud][key];
  };
}

function sameRule(a: BridgeRule, b: BridgeRule): boolean {
  return a.topic === b.topic && a.direction === b.direction && a.localPrefix === b.localPrefix && a.remotePrefix === b.remotePrefix;
}

/** A built-in cloud's rule files and the rules they add to the built-in ones. */
export interface CloudRuleFiles {
  readonly dir: string;
  /** Empty when the directory does not exist. */
  readonly files: readonly BridgeRuleFile[];
  /** In file order, without the rules the bridge already has: thin-edge's own files repeat the built-in rules. */
  readonly added: readonly BridgeRule[];
}

/**
 * The rules a user put in `mappers/<cloud>[.<profile>]/bridge/*.toml`, applied after `builtIn` (the
 * first matching rule bridges a topic, so a file cannot re-route a built-in topic). A file that cannot
 * be parsed or expanded is an error, as in thin-edge, whose mapper does not start with it.
 */
export function cloudRuleFiles(config: TedgeConfig, cloud: Cloud, builtIn: readonly BridgeRule[]): CloudRuleFiles {
  const dir = cloudBridgeDir(config, cloud);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return { dir, files: [], added: [] };
  const files = loadBridgeRuleFiles(dir, cloudRuleLookup(config, cloud));
  const added: BridgeRule[] = [];
  for (const rule of files.flatMap((f) => f.rules)) {
    if (!builtIn.some((b) => sameRule(b, rule)) && !added.some((a) => sameRule(a, rule))) added.push(rule);
  }
  return { dir, files, added };
}
