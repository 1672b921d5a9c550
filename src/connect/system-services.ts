import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TedgeError } from '../core/errors';
import { parseToml, type TomlTable } from '../config/toml';

/**
 * How services are started, stopped and enabled: the commands of `<config-dir>/system.toml`, as in
 * thin-edge (§6), so a device without systemd (OpenRC, runit, s6, a container) and the tests can
 * point them elsewhere. Each command is an argv array; `{}` in an argument is replaced by the
 * service name. Commands run with execFile: no shell ever sees a service name or an argument.
 *
 *   [init]
 *   name = "systemd"
 *   is_available = ["/bin/systemctl", "--version"]
 *   restart = ["/bin/systemctl", "restart", "{}"]
 *   ...
 *   [system]
 *   reboot = ["init", "6"]
 */

export const SERVICE_ACTIONS = ['restart', 'stop', 'start', 'enable', 'disable', 'is_active'] as const;
export type ServiceAction = (typeof SERVICE_ACTIONS)[number];

/** A command line: program, then arguments. Never empty. */
export type Argv = readonly [string, ...string[]];

export interface InitCommands {
  /** What `tedge connect` prints as the service manager. */
  readonly name: string;
  /** Exits 0 when the service manager works here; when absent it is assumed to. */
  readonly isAvailable?: Argv;
  readonly actions: Readonly<Record<ServiceAction, Argv>>;
}

export interface SystemConfig {
  readonly init: InitCommands;
  readonly reboot: Argv;
  readonly rebootTimeoutSeconds?: number;
  /** The file the commands come from, or `built-in default (systemd)`. */
  readonly source: string;
}

/** thin-edge's defaults: systemd, used when there is no system.toml or it has no [init]. */
export const SYSTEMD_INIT: InitCommands = {
  name: 'systemd',
  isAvailable: ['/bin/systemctl', '--version'],
  actions: {
    restart: ['/bin/systemctl', 'restart', '{}'],
    stop: ['/bin/systemctl', 'stop', '{}'],
    start: ['/bin/systemctl', 'start', '{}'],
    enable: ['/bin/systemctl', 'enable', '{}'],
    disable: ['/bin/systemctl', 'disable', '{}'],
    is_active: ['/bin/systemctl', 'is-active', '{}'],
  },
};

export const DEFAULT_REBOOT: Argv = ['init', '6'];

export const SYSTEM_TOML = 'system.toml';

export function systemConfigPath(configDir: string): string {
  return join(configDir, SYSTEM_TOML);
}

/** `<config-dir>/system.toml`, or the systemd defaults when the file does not exist. */
export function loadSystemConfig(configDir: string): SystemConfig {
  const path = systemConfigPath(configDir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return { init: SYSTEMD_INIT, reboot: DEFAULT_REBOOT, source: 'built-in default (systemd)' };
    throw new TedgeError('CONFIG_FILE', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  return parseSystemToml(text, path);
}

/** Pure: the text of a system.toml to its commands; CONFIG_FILE naming the file and the bad entry. */
export function parseSystemToml(text: string, source: string): SystemConfig {
  const doc = parseToml(text, source);
  const init = table(doc, 'init', source);
  const system = table(doc, 'system', source);
  const timeout = system?.['reboot_timeout_seconds'];
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout <= 0)) {
    throw new TedgeError('CONFIG_FILE', `${source}: [system] reboot_timeout_seconds must be a positive integer`);
  }
  const reboot = system?.['reboot'] === undefined ? DEFAULT_REBOOT : argv(system['reboot'], `[system] reboot`, source);
  return {
    init: init === undefined ? SYSTEMD_INIT : initCommands(init, source),
    reboot,
    ...(timeout !== undefined ? { rebootTimeoutSeconds: timeout } : {}),
    source,
  };
}

function initCommands(init: TomlTable, source: string): InitCommands {
  const name = init['name'];
  if (name !== undefined && typeof name !== 'string') throw new TedgeError('CONFIG_FILE', `${source}: [init] name must be a string`);
  // Every action must be given: falling back to systemctl on a device that chose another init system
  // would run the wrong program.
  const missing = SERVICE_ACTIONS.filter((a) => init[a] === undefined);
  if (missing.length > 0) throw new TedgeError('CONFIG_FILE', `${source}: [init] lacks ${missing.join(', ')}; every one of ${SERVICE_ACTIONS.join(', ')} must be a command, e.g. restart = ["/bin/systemctl", "restart", "{}"]`);
  const actions = Object.fromEntries(SERVICE_ACTIONS.map((a) => [a, argv(init[a], `[init] ${a}`, source)])) as Record<ServiceAction, Argv>;
  const isAvailable = init['is_available'] === undefined ? undefined : argv(init['is_available'], '[init] is_available', source);
  return { name: name ?? 'custom', ...(isAvailable !== undefined ? { isAvailable } : {}), actions };
}

function table(doc: TomlTable, name: string, source: string): TomlTable | undefined {
  const t = doc[name];
  if (t === undefined) return undefined;
  if (t === null || typeof t !== 'object' || Array.isArray(t)) throw new TedgeError('CONFIG_FILE', `${source}: [${name}] must be a table`);
  return t as TomlTable;
}

function argv(value: unknown, what: string, source: string): Argv {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v): v is string => typeof v === 'string') || value[0] === '') {
    throw new TedgeError('CONFIG_FILE', `${source}: ${what} must be a non-empty array of strings (program, then arguments), e.g. ["/bin/systemctl", "restart", "{}"]`);
  }
  return value as unknown as Argv;
}

/** The command of one action for one service: every `{}` in an argument becomes the service name. */
export function renderCommand(command: Argv, service: string): Argv {
  const [program, ...args] = command;
  return [program.replaceAll('{}', service), ...args.map((a) => a.replaceAll('{}', service))];
}

/** A command line as shown to the user; arguments that need it are quoted (display only, never run). */
export function formatCommand(command: readonly string[]): string {
  return command.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

export interface CommandResult {
  /** null when killed by a signal (e.g. the timeout) */
  readonly exitCode: number | null;
  readonly signal?: string;
  readonly stderr: string;
}

/** Runs a command to completion; rejects only when it cannot be started (e.g. ENOENT). */
export type CommandRunner = (command: Argv, timeoutMs: number) => Promise<CommandResult>;

export const execCommand: CommandRunner = (command, timeoutMs) =>
  new Promise((resolve, reject) => {
    const [program, ...args] = command;
    execFile(program, args, { timeout: timeoutMs, maxBuffer: 1024 * 1024, encoding: 'utf8' }, (error, _stdout, stderr) => {
      if (error === null) return resolve({ exitCode: 0, stderr });
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'number') return resolve({ exitCode: code, stderr });
      const signal = (error as { signal?: unknown }).signal;
      if (typeof signal === 'string') return resolve({ exitCode: null, signal, stderr });
      reject(error); // spawn failure: ENOENT, EACCES
    });
  });

/** Service actions through the commands of system.toml. */
export class ServiceManager {
  constructor(
    readonly system: SystemConfig,
    private readonly runner: CommandRunner = execCommand,
    private readonly timeoutMs = 60_000,
  ) {}

  get name(): string {
    return this.system.init.name;
  }

  /** The is_available command exits 0 (true when there is none). */
  async isAvailable(): Promise<boolean> {
    const check = this.system.init.isAvailable;
    if (check === undefined) return true;
    try {
      return (await this.runner(check, this.timeoutMs)).exitCode === 0;
    } catch {
      return false;
    }
  }

  /** Runs `action` for `service`; SERVICE_COMMAND with the command line and why when it does not exit 0. */
  async run(action: Exclude<ServiceAction, 'is_active'>, service: string): Promise<void> {
    const result = await this.exec(action, service);
    if (result.exitCode !== 0) throw new TedgeError('SERVICE_COMMAND', `cannot ${action} ${service}: ${formatCommand(renderCommand(this.system.init.actions[action], service))} ${failure(result, this.timeoutMs)}`);
  }

  /** is_active exits 0: the service runs. */
  async isActive(service: string): Promise<boolean> {
    return (await this.exec('is_active', service)).exitCode === 0;
  }

  private async exec(action: ServiceAction, service: string): Promise<CommandResult> {
    const command = renderCommand(this.system.init.actions[action], service);
    try {
      return await this.runner(command, this.timeoutMs);
    } catch (cause) {
      const why = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'program not found' : (cause as Error).message;
      throw new TedgeError('SERVICE_COMMAND', `cannot ${action.replace('_', '-')} ${service}: cannot run ${formatCommand(command)}: ${why} (commands from ${this.system.source})`, { cause });
    }
  }
}

function failure(result: CommandResult, timeoutMs: number): string {
  const detail = result.stderr.trim().split('\n').filter((l) => l.trim() !== '').at(-1);
  const how = result.exitCode === null ? (result.signal === 'SIGTERM' ? `did not finish within ${timeoutMs / 1000} s` : `was killed by ${result.signal ?? 'a signal'}`) : `exited with ${result.exitCode}`;
  return detail === undefined ? how : `${how}: ${detail}`;
}
