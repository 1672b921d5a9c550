import { UsageError } from '../plugin-cli';

/**
 * The command line of tedge-flows-plugin, thin-edge's sm-plugin API: a usage error is exit 1 (which is also
 * how the agent learns that update-list is not supported).
 */
export type FlowsOp =
  | { readonly op: 'list' }
  | { readonly op: 'install'; readonly module: string; readonly version?: string; readonly file: string }
  | { readonly op: 'remove'; readonly module: string; readonly version?: string; readonly keepParams: boolean }
  | { readonly op: 'update-list' }
  | { readonly op: 'prepare' }
  | { readonly op: 'finalize' };

export interface FlowsCli {
  readonly operation: FlowsOp;
  readonly configDir?: string;
}


export const USAGE = `Usage: tedge-flows-plugin [--config-dir <dir>] <command>

thin-edge.io software management plugin for flows (software type 'flow'), installed from .tar.gz packages

Commands:
  list                                              installed flows: <mapper>/<flow><TAB>version
  install <mapper>/<flow> [--module-version <v>] --file <package.tar.gz>
  remove <mapper>/<flow> [--module-version <v>] [--keep-params]
  update-list                                       not supported (exit 1: one call per module)
  prepare, finalize                                 nothing to do

Exit status: 0 success, 1 usage, 2 failure
`;

const VALUE_OPTIONS: Readonly<Record<string, 'version' | 'file'>> = { '--module-version': 'version', '-v': 'version', '--file': 'file' };

/** Parses argv (without the program). */
export function parseFlowsArgs(argv: readonly string[]): FlowsCli | 'help' {
  const args = [...argv];
  let configDir: string | undefined;
  const values: Partial<Record<'version' | 'file', string>> = {};
  const positional: string[] = [];
  let keepParams = false;
  while (args.length > 0) {
    const arg = args.shift() as string;
    if (arg === '--help' || arg === '-h' || (arg === 'help' && positional.length === 0)) return 'help';
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq > 0) return arg.slice(eq + 1);
      const v = args.shift();
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--config-dir') configDir = value();
    else if (flag === '--keep-params') keepParams = true;
    else if (VALUE_OPTIONS[flag] !== undefined) values[VALUE_OPTIONS[flag]] = value();
    else if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}'`);
    else positional.push(arg);
  }
  const [word, ...rest] = positional;
  if (word === undefined) throw new UsageError('a command is required');
  const cli = (operation: FlowsOp): FlowsCli => (configDir === undefined ? { operation } : { operation, configDir });
  const only = (allowed: readonly string[]): void => {
    const given = [...Object.keys(values).map((k) => (k === 'version' ? '--module-version' : '--file')), ...(keepParams ? ['--keep-params'] : [])];
    const wrong = given.find((g) => !allowed.includes(g));
    if (wrong !== undefined) throw new UsageError(`${wrong} is not an option of ${word}`);
  };
  const version = values.version;
  switch (word) {
    case 'install': {
      only(['--module-version', '--file']);
      if (rest.length !== 1) throw new UsageError('install takes exactly one module name');
      if (values.file === undefined) throw new UsageError('install needs --file <package>');
      return cli({ op: 'install', module: rest[0] as string, file: values.file, ...(version !== undefined && { version }) });
    }
    case 'remove':
      only(['--module-version', '--keep-params']);
      if (rest.length !== 1) throw new UsageError('remove takes exactly one module name');
      return cli({ op: 'remove', module: rest[0] as string, keepParams, ...(version !== undefined && { version }) });
    case 'list':
    case 'update-list':
    case 'prepare':
    case 'finalize':
      only([]);
      if (rest.length > 0) throw new UsageError(`${word} takes no arguments`);
      return cli({ op: word });
    default:
      throw new UsageError(`unknown command '${word}'`);
  }
}
