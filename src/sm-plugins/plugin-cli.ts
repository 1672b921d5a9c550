import { errorMessage } from '../core/errors';

/** The sm-plugin protocol's exit codes (software-management-plugin-api). */
export const EXIT_SUCCESS = 0;
export const EXIT_USAGE = 1;
export const EXIT_FAILURE = 2;
export const EXIT_INTERRUPTED = 4;

/** A command line the plugin does not take: exit 1, which is also how the agent learns "not supported". */
export class UsageError extends Error {}

/** A failure with its own exit status (the default is 2). */
export class PluginFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
  }
}

/** The plugin's streams and environment, injected so that tests run a plugin in-process. */
export interface PluginIo {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * One plugin call: parse (a usage error is the message, the usage and exit 1), `--help`, then the command,
 * whose failure is one `ERROR:` line on stderr and its exit status.
 */
export function runPluginCommand<Cli>(argv: readonly string[], io: PluginIo, plugin: { readonly usage: string; parse(argv: readonly string[]): Cli | 'help'; execute(cli: Cli): number }): number {
  let cli: Cli | 'help';
  try {
    cli = plugin.parse(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`error: ${err.message}\n\n${plugin.usage}`);
    return EXIT_USAGE;
  }
  if (cli === 'help') {
    io.out(plugin.usage);
    return EXIT_SUCCESS;
  }
  try {
    return plugin.execute(cli);
  } catch (err) {
    io.err(`ERROR: ${errorMessage(err)}\n`);
    return err instanceof PluginFailure ? err.exitCode : EXIT_FAILURE;
  }
}

/**
 * Runs a plugin's `main` as this process: its result is the exit status; an unexpected error is printed
 * and exits 2, the protocol's "failure" (anything else could read as usage (1) or retry (3)).
 */
export function runPluginProcess(main: (argv: string[], env: NodeJS.ProcessEnv) => Promise<number>): void {
  main(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = EXIT_FAILURE;
    },
  );
}
