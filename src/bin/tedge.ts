#!/usr/bin/env node
import { readlinkSync } from 'node:fs';
import { type Component, parseInvocation } from '../cli/invocation';
import { extractSeaAddon } from '../runtime/sea-addon';
import { tedgeVersion } from '../runtime/version';

interface ComponentModule {
  main(argv: string[], env: NodeJS.ProcessEnv): Promise<number>;
}

/**
 * Multi-call dispatch. The requires are lazy (a `tedge config` call does not load the daemons) and
 * static (a bundler sees them and includes the daemons in the single executable).
 */
function loadComponent(component: Component | 'run-all'): ComponentModule {
  switch (component) {
    case 'tedge-mapper':
      return require('./tedge-mapper') as ComponentModule;
    case 'tedge-agent':
      return require('./tedge-agent') as ComponentModule;
    case 'tedge-apt-plugin':
      return require('./tedge-apt-plugin') as ComponentModule;
    case 'tedge-flows-plugin':
      return require('./tedge-flows-plugin') as ComponentModule;
    case 'tedge-watchdog':
      return require('./tedge-watchdog') as ComponentModule;
    case 'run-all':
      return require('../cli/run-all') as ComponentModule;
  }
}

async function runComponent(component: Component | 'run-all', args: string[]): Promise<number> {
  let mod: ComponentModule;
  try {
    mod = loadComponent(component);
  } catch (cause) {
    // Only the first line: node appends the require stack, which says nothing to a user.
    process.stderr.write(`error: cannot load ${component}: ${String((cause as Error).message).split('\n')[0]}\n`);
    return 1;
  }
  return mod.main(args, process.env);
}

/** For links named after something else than a component (`sm-plugins/apt -> tedge-apt-plugin`). */
function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  // `tedge config list | head`: a closed pipe ends the output, it is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  // A single executable carries the native addon inside: put it where the native loader (src/native/binding.ts) looks first.
  if (process.env['TEDGE_NATIVE_PATH'] === undefined && process.env['TEDGE_NATIVE'] !== '0') {
    const addon = extractSeaAddon();
    if (addon !== undefined) process.env['TEDGE_NATIVE_PATH'] = addon;
  }
  const invocation = parseInvocation(process.argv, process.argv0, readLink);
  if (invocation.kind === 'component' || invocation.kind === 'run-all') {
    // A daemon that has returned is done: a socket it could not close in time (a broker that is gone)
    // must not keep the process alive. Its word, like the supervisor's, is final.
    const code = await runComponent(invocation.kind === 'run-all' ? 'run-all' : invocation.component, invocation.args);
    process.exit(code);
  }

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
    // Lazy like the daemons: `tedge run all` and the links do not load the whole command tree.
    const { runTedge } = require('../cli/program') as typeof import('../cli/program');
    return await runTedge(invocation.args, {
      out: (s) => process.stdout.write(s),
      outBytes: (b) => process.stdout.write(b),
      err: (s) => process.stderr.write(s),
      env: process.env,
      version: tedgeVersion(),
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
