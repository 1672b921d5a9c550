import { findOnPath } from '../software/plugin-exec';
import { tedgeCommand } from '../../tedge-write/privileged-write';
import { callPlugin, describeFailure, succeeded } from './plugin-call';

/** Runs `[sudo -n] tedge --config-dir D <sub> get …` with stdout to a file. */
export type ElevatedGet = (args: readonly string[], dest: string, ctl: { readonly signal: AbortSignal; readonly log?: (l: string) => void }) => Promise<void>;

/**
 * How the built-in file plugins read what the agent's user may not (a root-only log): the same plugin as
 * `sudo -n tedge file-config-plugin|file-log-plugin get …`, which sudoers allows (/usr/bin/tedge), like
 * thin-edge's tedge-file-config-plugin/tedge-file-log-plugin. Undefined without sudo.enable or sudo.
 */
export function elevatedGet(sub: 'file-config-plugin' | 'file-log-plugin', configDir: string, sudo: boolean, command = tedgeCommand(), sudoPath = sudo ? findOnPath('sudo') : undefined): ElevatedGet | undefined {
  if (sudoPath === undefined) return undefined;
  const [program, ...prefix] = command;
  if (program === undefined) return undefined;
  return async (args, dest, ctl) => {
    const r = await callPlugin({
      path: program,
      args: [...prefix, '--config-dir', configDir, sub, 'get', ...args],
      sudo: true,
      timeoutMs: 5 * 60_000,
      signal: ctl.signal,
      stdoutFile: dest,
      ...(ctl.log ? { log: ctl.log } : {}),
    });
    if (!succeeded(r)) throw new Error(describeFailure(sub, 'get', r));
  };
}
