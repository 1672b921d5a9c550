import { UsageError } from '../plugin-cli';

export { UsageError };

/**
 * The command line of tedge-apt-plugin, thin-edge's sm-plugin API exactly: a usage error is exit 1
 * (which is also how the agent learns that a command such as update-list is not supported).
 */
export type AptOp =
  | { readonly op: 'list'; readonly name?: string; readonly maintainer?: string }
  | { readonly op: 'install'; readonly module: string; readonly version?: string; readonly file?: string }
  | { readonly op: 'remove'; readonly module: string; readonly version?: string }
  | { readonly op: 'update-list' }
  | { readonly op: 'prepare' }
  | { readonly op: 'finalize' };

export interface AptCli {
  readonly operation: AptOp;
  readonly configDir?: string;
}


export const USAGE = `Usage: tedge-apt-plugin [--config-dir <dir>] <command>

thin-edge.io software management plugin for Debian packages (apt-get, dpkg)

Commands:
  list [--name <regex>] [--maintainer <regex>]      installed packages: name<TAB>version
  install <module> [--module-version <v>] [--file <path.deb>]
  remove <module> [--module-version <v>]
  update-list                                       install/remove lines on stdin, one apt-get call
  prepare                                           apt-get update
  finalize                                          apt-get autoremove

Exit status: 0 success, 1 usage, 2 failure, 4 interrupted
`;

/** Options of each command, with their aliases (clap's `-v` for --module-version, `-n`/`-m` for list). */
const OPTIONS: Record<AptOp['op'], Record<string, string>> = {
  list: { '--name': 'name', '-n': 'name', '--maintainer': 'maintainer', '-m': 'maintainer' },
  install: { '--module-version': 'version', '-v': 'version', '--file': 'file' },
  remove: { '--module-version': 'version', '-v': 'version' },
  'update-list': {},
  prepare: {},
  finalize: {},
};

function isOp(word: string): word is AptOp['op'] {
  return Object.prototype.hasOwnProperty.call(OPTIONS, word);
}

/** Parses argv (without the program); `--help` comes back as op undefined. */
export function parseAptArgs(argv: readonly string[]): AptCli | 'help' {
  const args = [...argv];
  let configDir: string | undefined;
  while (args[0] !== undefined && args[0].startsWith('-')) {
    const flag = args.shift() as string;
    if (flag === '--help' || flag === '-h') return 'help';
    if (flag === '--config-dir') configDir = takeValue(flag, args);
    else if (flag.startsWith('--config-dir=')) configDir = flag.slice('--config-dir='.length);
    else throw new UsageError(`unknown option '${flag}'`);
  }
  const word = args.shift();
  if (word === undefined) throw new UsageError('a command is required');
  if (word === 'help') return 'help';
  if (!isOp(word)) throw new UsageError(`unknown command '${word}'`);
  const known = OPTIONS[word];
  const values: Record<string, string> = {};
  const positional: string[] = [];
  while (args.length > 0) {
    const arg = args.shift() as string;
    if (arg === '--help' || arg === '-h') return 'help';
    if (arg === '--config-dir') {
      configDir = takeValue(arg, args);
      continue;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const field = known[flag];
    if (field !== undefined) values[field] = eq > 0 ? arg.slice(eq + 1) : takeValue(flag, args);
    else if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option '${arg}' for ${word}`);
    else positional.push(arg);
  }
  const cli = (operation: AptOp): AptCli => (configDir === undefined ? { operation } : { operation, configDir });
  switch (word) {
    case 'install':
    case 'remove': {
      if (positional.length !== 1) throw new UsageError(`${word} takes exactly one module name`);
      const module = positional[0] as string;
      const version = values['version'];
      if (word === 'remove') return cli({ op: 'remove', module, ...(version !== undefined && { version }) });
      const file = values['file'];
      return cli({ op: 'install', module, ...(version !== undefined && { version }), ...(file !== undefined && { file }) });
    }
    case 'list': {
      if (positional.length > 0) throw new UsageError('list takes no arguments');
      const { name, maintainer } = values;
      return cli({ op: 'list', ...(name !== undefined && { name }), ...(maintainer !== undefined && { maintainer }) });
    }
    case 'update-list':
    case 'prepare':
    case 'finalize':
      if (positional.length > 0) throw new UsageError(`${word} takes no arguments`);
      return cli({ op: word });
  }
}

function takeValue(flag: string, args: string[]): string {
  const value = args.shift();
  if (value === undefined) throw new UsageError(`${flag} needs a value`);
  return value;
}
