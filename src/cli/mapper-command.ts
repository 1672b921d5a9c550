import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { builtInScope, mapperConfigValue, mapperNames, mapperRow, mappersRoot } from '../flows/mapper-inventory';
import { sourceNote } from '../flows/user-mapper-config';
import type { CommandContext } from './context';

/**
 * `tedge mapper list` and `tedge mapper config get <mapper>.<key>`, as thin-edge 2.x: list prints one line per
 * directory of `<config-dir>/mappers/`, `name<TAB>url<TAB>device id [source]<TAB>cloud_type` (the name alone
 * when none of them is known); config get prints the effective value on stdout and where it comes from on
 * stderr (`# …`).
 */
export function registerMapperCommand(program: Command, context: () => CommandContext): void {
  const mapper = program.command('mapper').description('inspect the mappers of <config-dir>/mappers (built-in clouds and user-defined)');

  mapper
    .command('list')
    .description('list the mappers with their url, device id and cloud_type')
    .action(() => {
      const ctx = context();
      const config = ctx.config();
      const names = mapperNames(config);
      for (const name of names) {
        const dir = join(mappersRoot(config), name);
        // As thin-edge warns: such a mapper cannot start, its bridge has nothing to connect with.
        if (builtInScope(name) === undefined && existsSync(join(dir, 'bridge')) && !existsSync(join(dir, 'mapper.toml'))) {
          ctx.err(`warning: mapper '${name}' has a bridge/ but no mapper.toml: it will not start (add mapper.toml with its url, or remove bridge/)\n`);
        }
      }
      if (names.length === 0) {
        ctx.err(`No mappers found under '${mappersRoot(config)}'\n`);
        return;
      }
      for (const name of names) {
        const { row, problem } = mapperRow(config, name);
        if (problem !== undefined) ctx.err(`warning: mapper '${name}': ${problem}\n`);
        ctx.out(row.url === '' && row.deviceId === '' && row.cloudType === '' ? `${row.name}\n` : `${row.name}\t${row.url}\t${row.deviceId}\t${row.cloudType}\n`);
      }
    });

  mapper
    .command('config')
    .description("read a mapper's configuration")
    .command('get')
    .description("print the effective value of a key of a mapper's configuration (mapper.toml, with its fallbacks)")
    .argument('<key>', '<mapper>.<key>, e.g. thingsboard.url, thingsboard.device.cert_path, c8y.prod.url')
    .action((key: string) => {
      const ctx = context();
      const config = ctx.config();
      const found = mapperConfigValue(config, key);
      ctx.out(`${found.value}\n`);
      ctx.err(`# ${sourceNote(found.source, basename(config.filePath))}\n`);
    });
}
