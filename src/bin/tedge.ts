#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Component, parseInvocation } from '../cli/invocation';
import { runTedge } from '../cli/program';

interface ComponentModule {
  main(argv: string[], env: NodeJS.ProcessEnv): Promise<number>;
}

/**
 * Multi-call dispatch: loads ./tedge-mapper or ./tedge-agent only when invoked under that name.
 * The path is computed at run time on purpose, so `tedge` builds and runs before those entry points exist.
 */
async function runComponent(component: Component, args: string[]): Promise<number> {
  let mod: ComponentModule;
  try {
    mod = require(join(__dirname, component)) as ComponentModule;
  } catch (cause) {
    // Only the first line: node appends the require stack, which says nothing to a user.
    process.stderr.write(`error: cannot load ${component}: ${String((cause as Error).message).split('\n')[0]}\n`);
    return 1;
  }
  return mod.main(args, process.env);
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown'; // e.g. a single executable without package.json beside it
  }
}

async function main(): Promise<number> {
  const invocation = parseInvocation(process.argv, process.argv0);
  if (invocation.kind === 'component') return runComponent(invocation.component, invocation.args);

  // The first Ctrl-C / SIGTERM asks the running command to finish; a second one kills as usual.
  const stop = new AbortController();
  const onSignal = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await runTedge(invocation.args, {
      out: (s) => process.stdout.write(s),
      err: (s) => process.stderr.write(s),
      env: process.env,
      version: packageVersion(),
      signal: stop.signal,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
