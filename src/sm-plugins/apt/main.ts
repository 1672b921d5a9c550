import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, symlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { TedgeConfig, resolveConfigDir } from '../../config/tedge-config';
import { errorMessage } from '../../core/errors';
import { EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_SUCCESS, PluginFailure as Failed, type PluginIo, runPluginCommand } from '../plugin-cli';
import { type AptOp, USAGE, parseAptArgs } from './args';
import {
  DPKG_QUERY_FORMAT,
  type DpkgConfigOption,
  aptAutoremoveArgv,
  aptInstallArgv,
  aptRemoveArgv,
  aptUpdateArgv,
  checkDebFields,
  dpkgConfigOption,
  effectiveVersion,
  installedPackages,
  packageSpec,
  parseUpdateLines,
  removalTarget,
} from './apt-model';

interface AptSettings {
  readonly name?: string;
  readonly maintainer?: string;
  readonly dpkgConfig: DpkgConfigOption;
}

/** apt.* keys from tedge.ini; a broken or unreadable config is no reason to fail a package operation. */
function loadSettings(configDir: string | undefined, env: NodeJS.ProcessEnv, warn: (s: string) => void): AptSettings {
  try {
    const config = TedgeConfig.load(resolveConfigDir(configDir, env), env);
    const name = config.text('apt.name');
    const maintainer = config.text('apt.maintainer');
    return { ...(name !== undefined && { name }), ...(maintainer !== undefined && { maintainer }), dpkgConfig: dpkgConfigOption(config.text('apt.dpkg.options.config')) };
  } catch (err) {
    warn(`tedge-apt-plugin: cannot read the tedge config, using defaults: ${errorMessage(err)}\n`);
    return { dpkgConfig: 'keepold' };
  }
}

export interface Io extends PluginIo {
  readonly stdin: () => string;
}

/** Runs one program (argv, no shell), its output passed through to ours (the agent logs it). */
function run(argv: readonly string[], io: Io): void {
  const [program = '', ...args] = argv;
  io.out(`Executing command: ${argv.join(' ')}\n`);
  const r = spawnSync(program, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...io.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.error) throw new Failed(`cannot run ${program}: ${r.error.message}`, EXIT_FAILURE);
  if (r.signal !== null) throw new Failed(`${program} was interrupted by ${r.signal}`, EXIT_INTERRUPTED);
  if (r.status !== 0) throw new Failed(`${argv.join(' ')} failed with exit status ${String(r.status)}`, EXIT_FAILURE);
}

/** Runs a query and returns its stdout; a failure is the command's stderr. */
function query(argv: readonly string[], io: Io): { status: number | null; stdout: string; stderr: string } {
  const [program = '', ...args] = argv;
  const r = spawnSync(program, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: io.env });
  if (r.error) throw new Failed(`cannot run ${program}: ${r.error.message}`, EXIT_FAILURE);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * A local .deb checked against the request, as apt-get wants it: an absolute path ending in .deb
 * (a downloaded module has no extension: a temporary `.deb` link is made, removed by `cleanup`).
 */
function debTarget(module: string, version: string | undefined, file: string, io: Io, cleanup: string[]): string {
  const path = resolve(file);
  const fields = query(['dpkg-deb', '-f', path, 'Package', 'Version'], io);
  if (fields.status !== 0) throw new Failed(`${file} is not a Debian package: ${fields.stderr.trim()}`, EXIT_FAILURE);
  try {
    checkDebFields(fields.stdout, module, version, file);
  } catch (err) {
    throw new Failed(errorMessage(err), EXIT_FAILURE);
  }
  if (path.endsWith('.deb')) return path;
  const link = `${path}.deb`;
  rmSync(link, { force: true });
  symlinkSync(path, link);
  cleanup.push(link);
  return link;
}

function installTarget(module: string, version: string | undefined, file: string | undefined, io: Io, cleanup: string[]): string {
  return file === undefined ? packageSpec(module, version) : debTarget(module, version, file, io, cleanup);
}

/** A removal of a given version only goes ahead when that version is the installed one (thin-edge). */
function checkInstalledVersion(module: string, version: string | undefined, io: Io): void {
  const v = effectiveVersion(version);
  if (v === undefined) return;
  const r = query(['dpkg-query', '-W', '-f', '${Version}', module], io);
  if (r.status === 0 && r.stdout !== '' && r.stdout !== v) throw new Failed(`${module} ${v} is not installed (installed: ${r.stdout})`, EXIT_FAILURE);
}

function execute(op: AptOp, settings: AptSettings, io: Io): void {
  const cleanup: string[] = [];
  try {
    switch (op.op) {
      case 'list': {
        const r = query(['dpkg-query', '-W', '-f', DPKG_QUERY_FORMAT], io);
        if (r.status !== 0) throw new Failed(`dpkg-query failed: ${r.stderr.trim()}`, EXIT_FAILURE);
        // The command line beats apt.name / apt.maintainer.
        const name = op.name ?? settings.name;
        const maintainer = op.maintainer ?? settings.maintainer;
        const filters = { ...(name !== undefined && { name }), ...(maintainer !== undefined && { maintainer }) };
        const lines = installedPackages(r.stdout, filters);
        io.out(lines.length === 0 ? '' : `${lines.join('\n')}\n`);
        return;
      }
      case 'install':
        run(aptInstallArgv([installTarget(op.module, op.version, op.file, io, cleanup)], settings.dpkgConfig), io);
        return;
      case 'remove':
        run(aptRemoveArgv(packageSpec(op.module, op.version)), io);
        return;
      case 'update-list': {
        const targets = parseUpdateLines(io.stdin()).map((u) => {
          if (u.action === 'install') return installTarget(u.name, u.version, u.path, io, cleanup);
          checkInstalledVersion(u.name, u.version, io);
          return removalTarget(u.name);
        });
        if (targets.length > 0) run(aptInstallArgv(targets, settings.dpkgConfig), io);
        return;
      }
      case 'prepare':
        run(aptUpdateArgv(), io);
        return;
      case 'finalize':
        run(aptAutoremoveArgv(), io);
        return;
    }
  } finally {
    for (const link of cleanup) rmSync(link, { force: true });
  }
}

/** tedge-apt-plugin (or `tedge apt-plugin`): returns the exit status of the sm-plugin protocol. */
export function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const io: Io = {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    env,
    stdin: () => readFileSync(0, 'utf8'),
  };
  return Promise.resolve(runApt(argv, io));
}

export function runApt(argv: readonly string[], io: Io): number {
  return runPluginCommand(argv, io, {
    usage: USAGE,
    parse: parseAptArgs,
    execute: (cli) => {
      execute(cli.operation, loadSettings(cli.configDir, io.env, io.err), io);
      return EXIT_SUCCESS;
    },
  });
}
