import { spawn } from 'node:child_process';
import { appendFileSync, createWriteStream, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, extname, isAbsolute, join } from 'node:path';
import { type Command, Option } from 'commander';
import { durationMs } from '../config/value-types';
import { TedgeError, errorMessage } from '../core/errors';
import type { CommandContext } from './context';
import { EXIT_FAILURE, EXIT_USAGE, ExitStatus } from './exit-codes';
import { tarGzDirectory } from './tar-gz';

interface DiagFlags {
  pluginDir?: string;
  outputDir?: string;
  name?: string;
  keepDir?: boolean;
  timeout: string;
  forcefulTimeout: string;
}

/** What the summary says and stderr shows (thin-edge's `info:` / `warning:` / `error:` lines). */
class Summary {
  constructor(
    private readonly path: string,
    private readonly err: (s: string) => void,
  ) {}
  line(level: 'info' | 'warning' | 'error' | undefined, text: string, toStderr = true): void {
    appendFileSync(this.path, `${level === undefined ? '' : `${level}: `}${text}\n`);
    if (toStderr) this.err(`${level === undefined ? '' : `${level}: `}${text}\n`);
  }
}

/**
 * The plugins of a directory, as thin-edge picks them: regular executable files, not `*.ignore`; when
 * run as root, only files owned by root that no one else can write (they run as root too).
 */
export function diagPlugins(dirs: readonly string[], warn: (s: string) => void, isRoot: boolean): string[] {
  const plugins = new Set<string>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      warn(`Failed to read plugins from ${dir}: ${errorMessage(err)}`);
      continue;
    }
    for (const name of names) {
      const path = join(dir, name);
      if (extname(name) === '.ignore') continue;
      const stat = statSync(path, { throwIfNoEntry: false });
      if (stat === undefined || !stat.isFile()) continue;
      if ((stat.mode & 0o111) === 0) {
        warn(`Skipping file: ${path} (not executable)`);
        continue;
      }
      if (isRoot && stat.uid !== 0) {
        warn(`Skipping file: ${path} (not owned by root)`);
        continue;
      }
      if (isRoot && (stat.mode & 0o022) !== 0) {
        warn(`Skipping file: ${path} (writable by non-root users)`);
        continue;
      }
      plugins.add(path);
    }
  }
  return [...plugins].sort();
}

/** `<plugin> collect --output-dir <dir> --config-dir <config-dir>`, its output in output.log; SIGTERM after `gracefulMs`, SIGKILL `forcefulMs` later. */
function runPlugin(plugin: string, args: readonly string[], cwd: string, log: string, gracefulMs: number, forcefulMs: number): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(log);
    // Its own process group: a timeout stops what the plugin started too (a `sleep` would hold its output open).
    const child = spawn(plugin, [...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const signalGroup = (signal: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    let kill: NodeJS.Timeout | undefined;
    const term = setTimeout(() => {
      signalGroup('SIGTERM');
      kill = setTimeout(() => signalGroup('SIGKILL'), forcefulMs);
    }, gracefulMs);
    child.once('error', (err) => {
      clearTimeout(term);
      out.end(() => reject(err));
    });
    child.once('close', (code, signal) => {
      clearTimeout(term);
      if (kill) clearTimeout(kill);
      out.end(() => resolve({ code, signal }));
    });
  });
}

function timestamp(now: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${now.getUTCFullYear()}-${p(now.getUTCMonth() + 1)}-${p(now.getUTCDate())}_${p(now.getUTCHours())}-${p(now.getUTCMinutes())}-${p(now.getUTCSeconds())}`;
}

function durationFlag(flag: string, text: string): number {
  try {
    return durationMs(text);
  } catch (cause) {
    throw new TedgeError('USAGE', `invalid ${flag} '${text}': ${(cause as Error).message}`, { cause });
  }
}

/** `tedge diag collect`: thin-edge's diagnostic plugins into one tarball. */
export function registerDiagCommand(program: Command, context: () => CommandContext): void {
  program
    .command('diag')
    .description('collect diagnostic information')
    .command('collect')
    .description('run the diagnostic plugins (diag.plugin_paths) and put what they collect in <output-dir>/<name>.tar.gz; exit 1 when a plugin failed, 2 when there is none')
    .option('--plugin-dir <dirs>', 'comma-separated plugin directories (default: diag.plugin_paths)')
    .option('--output-dir <dir>', 'where the tarball goes (default: tmp.path)')
    .option('--name <name>', 'name of the tarball and of its top directory (default: tedge-diag-<UTC time>)')
    .option('--keep-dir', 'keep the directory the tarball is made of')
    .addOption(new Option('--timeout <duration>', 'a plugin running longer gets SIGTERM').default('60s'))
    .addOption(new Option('--forceful-timeout <duration>', 'then, after this long, SIGKILL').default('60s'))
    .action(async (flags: DiagFlags) => {
      const ctx = context();
      const config = ctx.config();
      const gracefulMs = durationFlag('--timeout', flags.timeout);
      const forcefulMs = durationFlag('--forceful-timeout', flags.forcefulTimeout);
      const dirs = (flags.pluginDir !== undefined ? flags.pluginDir.split(',') : [...config.list('diag.plugin_paths')]).map((d) => d.trim()).filter((d) => d !== '');
      for (const d of dirs) if (!isAbsolute(d)) ctx.err(`warning: Invalid plugin path: ${d}, error: not an absolute path\n`);
      const outputDir = flags.outputDir ?? config.string('tmp.path');
      const name = flags.name ?? `tedge-diag-${timestamp(ctx.clock.now())}`;
      const diagDir = join(outputDir, name);
      mkdirSync(diagDir, { recursive: true });
      const summary = new Summary(join(diagDir, 'summary.log'), ctx.err);
      const isRoot = process.getuid?.() === 0;
      const plugins = diagPlugins(dirs.filter(isAbsolute), (w) => summary.line('warning', w), isRoot);
      if (plugins.length === 0) {
        summary.line('error', 'No diagnostic plugins were found');
        throw new ExitStatus(EXIT_USAGE);
      }
      let skipped = 0;
      let failed = 0;
      for (const plugin of plugins) {
        const pluginName = basename(plugin, extname(plugin));
        const pluginDir = join(diagDir, pluginName);
        mkdirSync(pluginDir, { recursive: true });
        try {
          const { code, signal } = await runPlugin(plugin, ['collect', '--output-dir', pluginDir, '--config-dir', config.configDir], outputDir, join(pluginDir, 'output.log'), gracefulMs, forcefulMs);
          summary.line(undefined, `Executing ${plugin}... ✓`, false);
          if (code === 0) continue;
          if (code === 2) {
            skipped++;
            summary.line('info', `${plugin} is marked skipped`);
          } else {
            failed++;
            summary.line('error', code === null ? `${plugin} terminated by signal${signal === null ? '' : ` ${signal}`}` : `${plugin} failed with exit status: ${code}`);
          }
        } catch (err) {
          failed++;
          summary.line(undefined, `Executing ${plugin}... ✗`, false);
          summary.line('error', `${plugin} failed with error: ${errorMessage(err)}`);
        }
      }
      summary.line(undefined, `\nTotal ${plugins.length} executed: ${plugins.length - skipped - failed} completed, ${failed} failed, ${skipped} skipped`);
      const tarball = `${diagDir}.tar.gz`;
      writeFileSync(tarball, tarGzDirectory(diagDir, name));
      if (flags.keepDir !== true) rmSync(diagDir, { recursive: true, force: true });
      ctx.err(`Diagnostic information saved to ${tarball}\n`);
      ctx.out(`${tarball}\n`);
      if (failed > 0) throw new ExitStatus(EXIT_FAILURE);
    });
}
