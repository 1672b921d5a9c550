import type { Command } from 'commander';
import { convertTomlToIni } from '../config/config-file';
import { CONFIG_KEYS, type ConfigKey, envName, type KeyDefinition } from '../config/keys';
import { PROFILE_CLOUDS, isProfileableKey, profileOption, storedKeyOf } from '../config/profiles';
import type { TedgeConfig } from '../config/tedge-config';
import type { CommandContext } from './context';

interface ListOptions {
  all?: boolean;
  doc?: boolean;
  profile?: string;
}

interface ProfileFlag {
  profile?: string;
}

const PROFILE_HELP = 'the cloud profile whose value to use (c8y.*, az.*, aws.* keys; env TEDGE_CLOUD_PROFILE)';

/**
 * `tedge config get|set|unset|add|remove|list|convert-toml`: the table in keys.ts is the single source
 * of names, types and docs. The file is tedge.ini, or thin-edge's tedge.toml when only that exists.
 */
export function registerConfigCommand(program: Command, context: () => CommandContext): void {
  const config = program.command('config').description('get, set, unset and list configuration keys (tedge.ini, or tedge.toml when only that exists)');
  const profileOf = (ctx: CommandContext, flags: ProfileFlag): string | undefined => profileOption(flags.profile, ctx.env);

  config
    .command('get')
    .description('print the effective value of a key (env TEDGE_<KEY>, file, certificate or default)')
    .argument('<key>', 'configuration key, e.g. c8y.url or c8y.profiles.<name>.url')
    .option('--profile <name>', PROFILE_HELP)
    .action((key: string, flags: ProfileFlag) => {
      const ctx = context();
      const cfg = ctx.config();
      const resolved = cfg.resolve(key, profileOf(ctx, flags));
      const view = cfg.viewOf(resolved);
      // string() throws a clear "not set" error for a key with no value and no default.
      ctx.out(`${view.string(resolved.key)}\n`);
      // A value read from thin-edge's file says so: that file is ours only on a device taken over from thin-edge.io.
      if (cfg.fileKind === 'toml' && view.lookup(resolved.key)?.source === 'file') ctx.err(`(from ${cfg.filePath})\n`);
    });

  config
    .command('set')
    .description('validate and store a value in the configuration file')
    .argument('<key>', 'configuration key, e.g. c8y.url')
    .argument('<value>', 'new value')
    .option('--profile <name>', PROFILE_HELP)
    .action((key: string, value: string, flags: ProfileFlag) => {
      const ctx = context();
      ctx.config().set(key, value, profileOf(ctx, flags));
    });

  config
    .command('unset')
    .description('remove a value from the configuration file (its default applies again)')
    .argument('<key>', 'configuration key')
    .option('--profile <name>', PROFILE_HELP)
    .action((key: string, flags: ProfileFlag) => {
      const ctx = context();
      ctx.config().unset(key, profileOf(ctx, flags));
    });

  config
    .command('add')
    .description('add items to a list key (comma-separated); each item is kept once, sorted')
    .argument('<key>', 'list key, e.g. c8y.topics')
    .argument('<value>', 'item(s) to add')
    .option('--profile <name>', PROFILE_HELP)
    .action((key: string, value: string, flags: ProfileFlag) => {
      const ctx = context();
      ctx.config().add(key, value, profileOf(ctx, flags));
    });

  config
    .command('remove')
    .description('remove items from a list key; a key that is not a list is unset when it holds this value')
    .argument('<key>', 'configuration key')
    .argument('<value>', 'item(s) to remove')
    .option('--profile <name>', PROFILE_HELP)
    .action((key: string, value: string, flags: ProfileFlag) => {
      const ctx = context();
      ctx.config().remove(key, value, profileOf(ctx, flags));
    });

  config
    .command('convert-toml')
    .description(`write the settings of thin-edge.io's tedge.toml to tedge.ini (unknown keys kept) and rename tedge.toml to tedge.toml.converted`)
    .action(() => {
      const ctx = context();
      const done = convertTomlToIni(ctx.config().configDir);
      ctx.out(`${done.keys} key(s) of ${done.from} written to ${done.to}; ${done.from} renamed ${done.keptAs}\n`);
    });

  config
    .command('list')
    .description('print key=value for every key with a value, defaults included; the file in use is named on stderr')
    .option('--all', 'also list keys without a value')
    .option('--doc', 'print every key with its type, documentation, default or example, and env variable')
    .option('--profile <name>', 'only the keys of this cloud profile (c8y.profiles.<name>.*, az.…, aws.…)')
    .argument('[filter]', 'only keys containing this text')
    .action((filter: string | undefined, opts: ListOptions) => {
      const ctx = context();
      const keys = (Object.keys(CONFIG_KEYS) as ConfigKey[]).filter((k) => filter === undefined || k.includes(filter));
      if (opts.doc) {
        const cfg = ctx.config();
        ctx.out(keys.map((k) => docEntry(k, CONFIG_KEYS[k], cfg)).join(''));
        ctx.out(PROFILE_DOC);
        return;
      }
      const cfg = ctx.config();
      ctx.err(`# ${cfg.filePath}${cfg.fileKind === 'toml' ? " (thin-edge.io's tedge.toml)" : ''}\n`);
      const only = profileOption(opts.profile, {});
      for (const [view, key] of listed(cfg, only)) {
        const stored = storedKeyOf(key, view.scope);
        if (filter !== undefined && !stored.includes(filter)) continue;
        const text = view.text(key);
        if (text !== undefined || opts.all) ctx.out(`${stored}=${text ?? ''}\n`);
      }
    });
}

/** The plain keys (unless one profile is asked for), then each profile's keys of its cloud, read in its view. */
function listed(cfg: TedgeConfig, only: string | undefined): Array<[TedgeConfig, ConfigKey]> {
  const all = Object.keys(CONFIG_KEYS) as ConfigKey[];
  const rows: Array<[TedgeConfig, ConfigKey]> = only === undefined ? all.map((k) => [cfg, k]) : [];
  for (const cloud of PROFILE_CLOUDS) {
    for (const profile of cfg.profiles(cloud)) {
      if (only !== undefined && profile !== only) continue;
      const view = cfg.forCloud(cloud, profile);
      for (const key of all) if (isProfileableKey(key, cloud)) rows.push([view, key]);
    }
  }
  return rows;
}

const PROFILE_DOC = `c8y.profiles.<name>.<key>, az.profiles.<name>.<key>, aws.profiles.<name>.<key>
    Every c8y.*, az.* and aws.* key above, for a second connection to that cloud (tedge connect c8y --profile <name>, tedge-mapper c8y --profile <name>); unset, a profile key has the key's default, not the default profile's value
    env: TEDGE_C8Y_PROFILES_<NAME>_<KEY>
`;

function docEntry(key: ConfigKey, def: KeyDefinition, config: TedgeConfig): string {
  const facts = [`type: ${def.type}${def.type === 'enum' ? ` (${(def.values ?? []).join(' | ')})` : ''}`];
  const shown = defaultText(def, config.configDir);
  if (shown !== undefined) facts.push(`default: ${shown}`);
  if (def.example !== undefined) facts.push(`example: ${def.example}`);
  facts.push(`env: ${envName(key)}`);
  return `${key}\n    ${def.doc}\n    ${facts.join('; ')}\n`;
}

/**
 * A derived default is shown with the keys it derives from as placeholders (`<c8y.url>:8883`),
 * which documents the rule rather than the value it happens to have on this device.
 */
function defaultText(def: KeyDefinition, configDir: string): string | undefined {
  if (typeof def.default !== 'function') return def.default;
  try {
    return def.default({ configDir, get: (k) => `<${k}>` }) ?? 'derived';
  } catch {
    return 'derived';
  }
}
