import type { Command } from 'commander';
import { CONFIG_KEYS, type ConfigKey, envName, type KeyDefinition } from '../config/keys';
import { requireKey, type TedgeConfig } from '../config/tedge-config';
import type { CommandContext } from './context';

interface ListOptions {
  all?: boolean;
  doc?: boolean;
}

/** `tedge config get|set|unset|list`: the table in keys.ts is the single source of names, types and docs. */
export function registerConfigCommand(program: Command, context: () => CommandContext): void {
  const config = program.command('config').description('get, set, unset and list configuration keys (tedge.ini)');

  config
    .command('get')
    .description('print the effective value of a key (env TEDGE_<KEY>, file, certificate or default)')
    .argument('<key>', 'configuration key, e.g. c8y.url')
    .action((key: string) => {
      const ctx = context();
      // string() throws a clear "not set" error for a key with no value and no default.
      ctx.out(`${ctx.config().string(requireKey(key))}\n`);
    });

  config
    .command('set')
    .description('validate and store a value in the configuration file')
    .argument('<key>', 'configuration key, e.g. c8y.url')
    .argument('<value>', 'new value')
    .action((key: string, value: string) => context().config().set(key, value));

  config
    .command('unset')
    .description('remove a value from the configuration file (its default applies again)')
    .argument('<key>', 'configuration key')
    .action((key: string) => context().config().unset(key));

  config
    .command('list')
    .description('print key=value for every key with a value, defaults included')
    .option('--all', 'also list keys without a value')
    .option('--doc', 'print every key with its type, documentation, default or example, and env variable')
    .argument('[filter]', 'only keys containing this text')
    .action((filter: string | undefined, opts: ListOptions) => {
      const ctx = context();
      const keys = (Object.keys(CONFIG_KEYS) as ConfigKey[]).filter((k) => filter === undefined || k.includes(filter));
      if (opts.doc) {
        ctx.out(keys.map((k) => docEntry(k, CONFIG_KEYS[k], ctx.config())).join(''));
        return;
      }
      const cfg = ctx.config();
      for (const key of keys) {
        const text = cfg.text(key);
        if (text !== undefined || opts.all) ctx.out(`${key}=${text ?? ''}\n`);
      }
    });
}

function docEntry(key: ConfigKey, def: KeyDefinition, config: TedgeConfig): string {
  const facts = [`type: ${def.type}`];
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
