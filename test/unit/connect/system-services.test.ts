import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TedgeError } from '../../../src/core/errors';
import {
  type Argv,
  type CommandRunner,
  DEFAULT_REBOOT,
  execCommand,
  formatCommand,
  loadSystemConfig,
  parseSystemToml,
  renderCommand,
  ServiceManager,
  SYSTEMD_INIT,
} from '../../../src/connect/system-services';

const ALL_ACTIONS = `
[init]
name = "openrc"
is_available = ["/sbin/rc-service", "-l"]
restart = ["/sbin/rc-service", "{}", "restart"]
stop = ["/sbin/rc-service", "{}", "stop"]
start = ["/sbin/rc-service", "{}", "start"]
enable = ["/sbin/rc-update", "add", "{}"]
disable = ["/sbin/rc-update", "delete", "{}"]
is_active = ["/sbin/rc-service", "{}", "status"]
`;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof TedgeError ? `${e.code}: ${e.message}` : String(e);
  }
  return undefined;
}

describe('system.toml parsing', () => {
  it('no [init] means the systemd commands of thin-edge; no [system] the default reboot', () => {
    const config = parseSystemToml('[log]\ntedge-mapper-c8y = "info"\n', 'system.toml');
    assert.deepEqual(config.init, SYSTEMD_INIT);
    assert.deepEqual(config.reboot, DEFAULT_REBOOT);
    assert.deepEqual(SYSTEMD_INIT.actions.is_active, ['/bin/systemctl', 'is-active', '{}']);
  });

  it('reads every command of [init] and [system]', () => {
    const config = parseSystemToml(`${ALL_ACTIONS}\n[system]\nreboot = ["/sbin/reboot"]\nreboot_timeout_seconds = 120\n`, '/etc/tedge/system.toml');
    assert.equal(config.init.name, 'openrc');
    assert.deepEqual(config.init.isAvailable, ['/sbin/rc-service', '-l']);
    assert.deepEqual(config.init.actions.enable, ['/sbin/rc-update', 'add', '{}']);
    assert.deepEqual(config.reboot, ['/sbin/reboot']);
    assert.equal(config.rebootTimeoutSeconds, 120);
    assert.equal(config.source, '/etc/tedge/system.toml');
  });

  it('is_available is optional', () => {
    const config = parseSystemToml(ALL_ACTIONS.replace(/^is_available.*$/m, ''), 's');
    assert.equal(config.init.isAvailable, undefined);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['a missing action', ALL_ACTIONS.replace(/^stop =.*$/m, '').replace(/^enable =.*$/m, ''), /^CONFIG_FILE: s: \[init\] lacks stop, enable; every one of restart, stop, start, enable, disable, is_active must be a command/],
    ['a string instead of an array', ALL_ACTIONS.replace(/^restart =.*$/m, 'restart = "/sbin/rc-service {} restart"'), /^CONFIG_FILE: s: \[init\] restart must be a non-empty array of strings/],
    ['an empty array', ALL_ACTIONS.replace(/^start =.*$/m, 'start = []'), /\[init\] start must be a non-empty array/],
    ['a number in the array', ALL_ACTIONS.replace(/^start =.*$/m, 'start = ["/bin/x", 1]'), /\[init\] start must be a non-empty array of strings/],
    ['an empty program', ALL_ACTIONS.replace(/^start =.*$/m, 'start = ["", "x"]'), /\[init\] start must be/],
    ['a name that is not a string', ALL_ACTIONS.replace(/^name =.*$/m, 'name = 3'), /\[init\] name must be a string/],
    ['init that is not a table', 'init = 3\n', /\[init\] must be a table/],
    ['a bad reboot', '[system]\nreboot = "init 6"\n', /\[system\] reboot must be a non-empty array/],
    ['a bad reboot timeout', '[system]\nreboot_timeout_seconds = -1\n', /reboot_timeout_seconds must be a positive integer/],
    ['invalid TOML', '[init\nname = "x"\n', /^CONFIG_FILE: invalid TOML in s \(line 1, column \d+\): /],
  ];
  for (const [what, text, expected] of bad) {
    it(`refuses ${what} with one line naming the file`, () => {
      const error = codeOf(() => parseSystemToml(text, 's'));
      assert.match(error ?? 'no error', expected);
      assert.equal(error?.includes('\n'), false);
    });
  }

  it('loadSystemConfig: a missing file is the systemd default; an existing one is parsed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tedge-system-toml-'));
    try {
      assert.equal(loadSystemConfig(dir).init.name, 'systemd');
      assert.equal(loadSystemConfig(dir).source, 'built-in default (systemd)');
      writeFileSync(join(dir, 'system.toml'), ALL_ACTIONS);
      assert.equal(loadSystemConfig(dir).init.name, 'openrc');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('service commands', () => {
  const render: Array<[Argv, string, Argv]> = [
    [['/bin/systemctl', 'restart', '{}'], 'mosquitto', ['/bin/systemctl', 'restart', 'mosquitto']],
    [['/sbin/rc-service', '{}', 'start'], 'tedge-mapper-c8y', ['/sbin/rc-service', 'tedge-mapper-c8y', 'start']],
    [['/usr/bin/sv', 'up', '/etc/service/{}'], 'tedge-agent', ['/usr/bin/sv', 'up', '/etc/service/tedge-agent']],
    [['/bin/x', '{}-{}'], 'a', ['/bin/x', 'a-a']],
    [['/bin/true'], 'mosquitto', ['/bin/true']],
  ];
  for (const [command, service, expected] of render) {
    it(`renders ${formatCommand(command)} for ${service}`, () => assert.deepEqual(renderCommand(command, service), expected));
  }

  it('formats a command for display, quoting what a shell would split', () => {
    assert.equal(formatCommand(['/bin/systemctl', 'restart', 'tedge-mapper-c8y@p1']), '/bin/systemctl restart tedge-mapper-c8y@p1');
    assert.equal(formatCommand(['/bin/x', 'a b', '$HOME']), '/bin/x "a b" "$HOME"');
  });

  function recordingRunner(results: Record<string, number>): { runner: CommandRunner; calls: string[] } {
    const calls: string[] = [];
    const runner: CommandRunner = (command) => {
      const line = command.join(' ');
      calls.push(line);
      if (command[0] === '/missing') return Promise.reject(Object.assign(new Error('spawn /missing ENOENT'), { code: 'ENOENT' }));
      return Promise.resolve({ exitCode: results[line] ?? 0, stderr: results[line] ? 'Unit tedge-mapper-c8y.service not found.\n' : '' });
    };
    return { runner, calls };
  }

  it('runs the action with the service name in place of {}', async () => {
    const { runner, calls } = recordingRunner({});
    const manager = new ServiceManager(parseSystemToml(ALL_ACTIONS, 's'), runner);
    await manager.run('restart', 'mosquitto');
    await manager.run('enable', 'tedge-mapper-c8y');
    assert.equal(await manager.isActive('tedge-agent'), true);
    assert.equal(await manager.isAvailable(), true);
    assert.deepEqual(calls, ['/sbin/rc-service mosquitto restart', '/sbin/rc-update add tedge-mapper-c8y', '/sbin/rc-service tedge-agent status', '/sbin/rc-service -l']);
  });

  it('a command exiting non-zero is SERVICE_COMMAND with the command line, the exit code and the last stderr line', async () => {
    const { runner } = recordingRunner({ '/sbin/rc-service tedge-mapper-c8y start': 5 });
    const manager = new ServiceManager(parseSystemToml(ALL_ACTIONS, 's'), runner);
    await assert.rejects(manager.run('start', 'tedge-mapper-c8y'), (e: TedgeError) => {
      assert.equal(e.code, 'SERVICE_COMMAND');
      assert.equal(e.message, 'cannot start tedge-mapper-c8y: /sbin/rc-service tedge-mapper-c8y start exited with 5: Unit tedge-mapper-c8y.service not found.');
      return true;
    });
  });

  it('a program that does not exist is SERVICE_COMMAND naming it and the file', async () => {
    const { runner } = recordingRunner({});
    const manager = new ServiceManager(parseSystemToml(ALL_ACTIONS.replace('["/sbin/rc-service", "{}", "stop"]', '["/missing", "{}"]'), '/etc/tedge/system.toml'), runner);
    await assert.rejects(manager.run('stop', 'mosquitto'), /^TedgeError: cannot stop mosquitto: cannot run \/missing mosquitto: program not found \(commands from \/etc\/tedge\/system.toml\)$/);
  });

  it('is_available failing or missing program means not available', async () => {
    const failing = new ServiceManager(parseSystemToml(ALL_ACTIONS, 's'), recordingRunner({ '/sbin/rc-service -l': 1 }).runner);
    assert.equal(await failing.isAvailable(), false);
    const missing = new ServiceManager(parseSystemToml(ALL_ACTIONS.replace('["/sbin/rc-service", "-l"]', '["/missing"]'), 's'), recordingRunner({}).runner);
    assert.equal(await missing.isAvailable(), false);
  });
});

describe('execCommand (real processes, no shell)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-exec-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reports exit codes of /bin/true and /bin/false', async () => {
    assert.equal((await execCommand(['/bin/true'], 5000)).exitCode, 0);
    assert.equal((await execCommand(['/bin/false'], 5000)).exitCode, 1);
  });

  it('passes a service name as one argument, never to a shell', async () => {
    const script = join(dir, 'record.sh');
    const log = join(dir, 'argv.log');
    writeFileSync(script, `#!/bin/sh\nfor a in "$@"; do printf '[%s]' "$a" >> '${log}'; done\necho >> '${log}'\n`);
    chmodSync(script, 0o755);
    const manager = new ServiceManager(parseSystemToml(ALL_ACTIONS.replace('["/sbin/rc-service", "{}", "restart"]', `["${script}", "restart", "{}"]`), 's'));
    await manager.run('restart', 'x; touch pwned $(id) `id`');
    assert.equal(readFileSync(log, 'utf8'), '[restart][x; touch pwned $(id) `id`]\n');
  });

  it('kills a command that outlives its timeout', async () => {
    const result = await execCommand(['/bin/sleep', '5'], 200);
    assert.equal(result.exitCode, null);
    assert.equal(result.signal, 'SIGTERM');
  });

  it('rejects when the program cannot be started', async () => {
    await assert.rejects(execCommand(['/no/such/program'], 1000), { code: 'ENOENT' });
  });
});
