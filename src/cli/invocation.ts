import { basename, dirname, resolve } from 'node:path';

/** The daemons the `tedge` binary can also be, via a link named after them or `tedge run <component>`. */
export const COMPONENTS = ['tedge-mapper', 'tedge-agent', 'tedge-apt-plugin', 'tedge-flows-plugin', 'tedge-watchdog'] as const;
export type Component = (typeof COMPONENTS)[number];

export type Invocation =
  | { readonly kind: 'tedge'; readonly args: string[] }
  | { readonly kind: 'component'; readonly component: Component; readonly args: string[] }
  /** `tedge run all`: the agent and the mappers in one supervised process. */
  | { readonly kind: 'run-all'; readonly args: string[] };

function asComponent(name: string | undefined): Component | undefined {
  if (name === undefined) return undefined;
  const bare = basename(name).replace(/\.js$/, '');
  return COMPONENTS.find((c) => c === bare);
}

/** Reads a symbolic link (undefined when the path is not one); injected so parsing stays pure. */
export type ReadLink = (path: string) => string | undefined;

/**
 * A component reached through links whose own name says nothing: sm-plugins name their link after
 * the software type (`/etc/tedge/sm-plugins/apt -> /usr/bin/tedge-apt-plugin -> tedge`).
 */
function throughLinks(path: string, readLink: ReadLink | undefined): Component | undefined {
  let current = path;
  for (let hops = 0; readLink !== undefined && hops < 8; hops++) {
    const target = readLink(current);
    if (target === undefined) return undefined;
    current = resolve(dirname(current), target);
    const found = asComponent(current);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Links named after a `tedge` subcommand: `tedge-write DEST` runs `tedge write DEST`. */
export const SUBCOMMAND_LINKS: Readonly<Record<string, string>> = {
  'tedge-write': 'write',
  'tedge-file-config-plugin': 'file-config-plugin',
  'tedge-file-log-plugin': 'file-log-plugin',
};

function asSubcommand(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  return SUBCOMMAND_LINKS[basename(name).replace(/\.js$/, '')];
}

/**
 * Which program to run, from process.argv and process.argv0: a link `tedge-agent -> tedge` shows up
 * as argv[1] when run as a script and as argv0 in a single executable; `tedge run tedge-agent ...` is the same.
 */
export function parseInvocation(argv: readonly string[], argv0: string, readLink?: ReadLink): Invocation {
  const byName = asComponent(argv[1]) ?? asComponent(argv0) ?? throughLinks(argv0, readLink) ?? (argv[1] === undefined ? undefined : throughLinks(argv[1], readLink));
  if (byName !== undefined) return { kind: 'component', component: byName, args: argv.slice(2) };
  // `tedge apt-plugin list`: the plugin has its own exit codes (1 is usage), so it bypasses the CLI's.
  if (argv[2] === 'apt-plugin') return { kind: 'component', component: 'tedge-apt-plugin', args: argv.slice(3) };
  const sub = asSubcommand(argv[1]) ?? asSubcommand(argv0);
  if (sub !== undefined) return { kind: 'tedge', args: [sub, ...argv.slice(2)] };
  if (argv[2] === 'run' && argv[3] === 'all') return { kind: 'run-all', args: argv.slice(4) };
  const run = argv[2] === 'run' ? asComponent(argv[3]) : undefined;
  if (run !== undefined) return { kind: 'component', component: run, args: argv.slice(4) };
  return { kind: 'tedge', args: argv.slice(2) };
}
