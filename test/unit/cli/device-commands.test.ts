import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { buildProgram } from '../../../src/cli/program';
import { completionScript } from '../../../src/cli/completions-command';
import { CONFIG_SUBDIRS, LINKED_PROGRAMS, createComponentLinks, lookupId } from '../../../src/cli/init-command';
import { renderTedgeMosquittoConf } from '../../../src/connect/tedge-mosquitto-conf';
import { TedgeConfig } from '../../../src/config/tedge-config';
import { runTedgeIn } from '../../helpers/cli-run';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tedge-devcmd-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const program = buildProgram({ out: () => {}, err: () => {}, env: {}, version: '9.9.9' });

/** What bash completes after `tedge <words> <cur>`, by the script itself. */
function bashComplete(words: readonly string[], cur: string): string[] {
  const script = completionScript('bash', program);
  const line = ['tedge', ...words, cur].map((w) => `'${w}'`).join(' ');
  const run = spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=(${line}); COMP_CWORD=${words.length + 1}; _tedge; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.split('\n').filter((l) => l !== '');
}

describe('tedge completions', () => {
  const rows: Array<[string, string[], string, (got: string[]) => boolean]> = [
    ['top-level commands', [], '', (g) => ['config', 'mqtt', 'init', 'diag', 'completions', 'refresh-bridges', 'connect'].every((c) => g.includes(c))],
    ['a prefix', [], 'mq', (g) => g.join() === 'mqtt'],
    ['subcommands of a group', ['mqtt'], '', (g) => g.includes('pub') && g.includes('sub') && !g.includes('config')],
    ['options of a command, after options of the group', ['--debug', 'mqtt', 'sub'], '--re', (g) => g.join() === '--retained-only'],
    ['diag collect', ['diag'], 'c', (g) => g.join() === 'collect'],
  ];
  for (const [name, words, cur, ok] of rows) {
    it(`bash: ${name}`, () => {
      const got = bashComplete(words, cur);
      assert.ok(ok(got), got.join(' '));
    });
  }

  it('zsh loads the same function through bashcompinit; fish gets one line per word', () => {
    assert.match(completionScript('zsh', program), /^#compdef tedge\n.*bashcompinit/s);
    const fish = completionScript('fish', program);
    assert.match(fish, /^complete -c tedge -n '__fish_use_subcommand' -a mqtt$/m);
    assert.match(fish, /^complete -c tedge -n '__fish_seen_subcommand_from sub' -l retained-only$/m);
  });

  it('is a command: tedge completions bash; an unknown shell is a usage error', async () => {
    const run = await runTedgeIn(dir, ['completions', 'bash']);
    assert.equal(run.code, 0);
    assert.match(run.out, /complete -o default -F _tedge tedge/);
    assert.equal((await runTedgeIn(dir, ['completions', 'tcsh'])).code, 2);
  });
});

describe('tedge init', () => {
  it('creates thin-edge directories owned by --user/--group, group-writable', async () => {
    const env = { TEDGE_LOGS_PATH: join(dir, 'log'), TEDGE_DATA_PATH: join(dir, 'data'), TEDGE_AGENT_STATE_PATH: join(dir, 'nope') };
    const config = join(dir, 'etc');
    const run = await runTedgeIn(config, ['init', '--user', 'root', '--group', '0'], { env });
    assert.equal(run.code, 0, run.err);
    for (const d of [config, ...CONFIG_SUBDIRS.map((s) => join(config, s)), join(dir, 'log'), join(dir, 'data'), join(config, '.agent')]) {
      const st = statSync(d);
      assert.ok(st.isDirectory(), d);
      assert.equal(st.mode & 0o777, 0o775, d);
      assert.equal(st.uid, 0);
    }
    assert.equal(existsSync(join(dir, 'nope')), false, 'a missing agent.state.path falls back to <config-dir>/.agent');
  });

  it('an unknown user fails with one line naming it', async () => {
    const run = await runTedgeIn(join(dir, 'etc'), ['init', '--user', 'no-such-user-here']);
    assert.equal(run.code, 1);
    assert.match(run.err, /^error: unknown user 'no-such-user-here' \(not in \/etc\/passwd\)/);
  });

  it('lookupId reads passwd/group lines and takes numbers as they are', () => {
    writeFileSync(join(dir, 'passwd'), 'root:x:0:0::/root:/bin/sh\ntedge:x:997:996::/var/tedge:/usr/sbin/nologin\n');
    assert.equal(lookupId(join(dir, 'passwd'), 'tedge', 'user'), 997);
    assert.equal(lookupId(join(dir, 'passwd'), '1234', 'user'), 1234);
  });

  it('links every component to the executable, keeps a right link, replaces a wrong one, leaves a file alone', () => {
    const exe = join(dir, 'bin', 'tedge');
    mkdirSync(join(dir, 'bin'));
    writeFileSync(exe, '');
    symlinkSync('/elsewhere/tedge', join(dir, 'bin', 'tedge-agent'));
    writeFileSync(join(dir, 'bin', 'tedge-write'), 'a real program');
    const lines: string[] = [];
    createComponentLinks(exe, LINKED_PROGRAMS, false, undefined, (s) => lines.push(s));
    assert.equal(readlinkSync(join(dir, 'bin', 'tedge-agent')), exe);
    assert.equal(readlinkSync(join(dir, 'bin', 'tedge-mapper')), exe);
    assert.equal(lstatSync(join(dir, 'bin', 'tedge-write')).isSymbolicLink(), false);
    lines.length = 0;
    createComponentLinks(exe, ['tedge-agent'], false, undefined, (s) => lines.push(s));
    assert.deepEqual(lines, [], 'nothing to do the second time');
    createComponentLinks(exe, ['tedge-watchdog'], true, undefined, () => {});
    assert.equal(readlinkSync(join(dir, 'bin', 'tedge-watchdog')), 'tedge');
  });
});

describe('tedge diag collect', () => {
  const plugin = (name: string, body: string, mode = 0o755): void => {
    mkdirSync(join(dir, 'plugins'), { recursive: true });
    writeFileSync(join(dir, 'plugins', name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, 'plugins', name), mode);
  };
  const untar = (tarball: string): string => {
    const out = join(dir, 'untar');
    mkdirSync(out, { recursive: true });
    const r = spawnSync('tar', ['-xzf', tarball, '-C', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return out;
  };

  it("runs each plugin with thin-edge's arguments and puts what they write in a tarball", async () => {
    plugin('01_args.sh', 'echo "args: $*"; while [ $# -gt 0 ]; do [ "$1" = --output-dir ] && echo data > "$2/collected.txt"; shift; done');
    plugin('02_skip.sh', 'exit 2');
    plugin('03_fail.sh', 'echo broken >&2; exit 3');
    plugin('04_off.sh.ignore', 'exit 0');
    plugin('05_notexec.sh', 'exit 0', 0o644);
    const out = join(dir, 'out');
    const run = await runTedgeIn(join(dir, 'etc'), ['diag', 'collect', '--plugin-dir', join(dir, 'plugins'), '--output-dir', out, '--name', 'bundle']);
    assert.equal(run.code, 1, 'a failed plugin: exit 1, after the tarball is made');
    assert.equal(run.out, `${join(out, 'bundle.tar.gz')}\n`);
    assert.equal(existsSync(join(out, 'bundle')), false, 'the directory is removed without --keep-dir');
    const x = untar(join(out, 'bundle.tar.gz'));
    assert.equal(readFileSync(join(x, 'bundle', '01_args', 'collected.txt'), 'utf8'), 'data\n');
    assert.equal(readFileSync(join(x, 'bundle', '01_args', 'output.log'), 'utf8'), `args: collect --output-dir ${join(out, 'bundle', '01_args')} --config-dir ${join(dir, 'etc')}\n`);
    assert.equal(readFileSync(join(x, 'bundle', '03_fail', 'output.log'), 'utf8'), 'broken\n');
    const summary = readFileSync(join(x, 'bundle', 'summary.log'), 'utf8');
    assert.match(summary, /info: .*02_skip\.sh is marked skipped/);
    assert.match(summary, /error: .*03_fail\.sh failed with exit status: 3/);
    assert.match(summary, /warning: Skipping file: .*05_notexec\.sh \(not executable\)/);
    assert.match(summary, /Total 3 executed: 1 completed, 1 failed, 1 skipped/);
    assert.doesNotMatch(summary, /04_off/);
  });

  it('no plugin: exit 2; --timeout stops a plugin that hangs', async () => {
    mkdirSync(join(dir, 'empty'));
    assert.equal((await runTedgeIn(join(dir, 'etc'), ['diag', 'collect', '--plugin-dir', join(dir, 'empty'), '--output-dir', join(dir, 'o1')])).code, 2);
    plugin('hang.sh', 'sleep 30');
    const started = Date.now();
    const run = await runTedgeIn(join(dir, 'etc'), ['diag', 'collect', '--plugin-dir', join(dir, 'plugins'), '--output-dir', join(dir, 'o2'), '--timeout', '300ms', '--keep-dir', '--name', 'n']);
    assert.equal(run.code, 1);
    assert.ok(Date.now() - started < 10_000);
    assert.match(readFileSync(join(dir, 'o2', 'n', 'summary.log'), 'utf8'), /hang\.sh terminated by signal SIGTERM/);
  });
});

describe('tedge-mosquitto.conf', () => {
  it('with the default keys: the file the .deb ships, byte for byte', () => {
    assert.equal(renderTedgeMosquittoConf(TedgeConfig.load(dir, {})), readFileSync(join(__dirname, '..', '..', '..', '..', 'packaging', 'config', 'tedge-mosquitto.conf'), 'utf8'));
  });

  it("with mqtt.external.*: thin-edge's second listener, TLS, client certificates required", () => {
    const external = renderTedgeMosquittoConf(
      TedgeConfig.load(dir, {
        TEDGE_MQTT_BIND_PORT: '1884',
        TEDGE_MQTT_EXTERNAL_BIND_PORT: '8883',
        TEDGE_MQTT_EXTERNAL_BIND_ADDRESS: '0.0.0.0',
        TEDGE_MQTT_EXTERNAL_CA_PATH: '/etc/ssl/certs',
        TEDGE_MQTT_EXTERNAL_CERT_FILE: '/etc/tedge/device-certs/tedge-certificate.pem',
        TEDGE_MQTT_EXTERNAL_KEY_FILE: '/etc/tedge/device-certs/tedge-private-key.pem',
      }),
    );
    assert.match(external, /\nper_listener_settings true\nlistener 1884 127\.0\.0\.1\nallow_anonymous true\nlistener 8883 0\.0\.0\.0\nallow_anonymous false\nrequire_certificate true\ncapath \/etc\/ssl\/certs\ncertfile \/etc\/tedge\/device-certs\/tedge-certificate\.pem\nkeyfile \/etc\/tedge\/device-certs\/tedge-private-key\.pem\n/);
    assert.match(external, /\nmax_queued_messages 100000\nmax_queued_bytes 67108864\n$/);
  });
});

describe('tedge refresh-bridges', () => {
  it('nothing connected, mosquitto bridge: says so; connected: rewrites the bridge file and tedge-mosquitto.conf, restarts mosquitto', async () => {
    const etc = join(dir, 'etc');
    mkdirSync(join(etc, 'mosquitto-conf'), { recursive: true });
    const log = join(dir, 'services.log');
    // The service manager is system.toml's: a script that records what it is asked.
    writeFileSync(join(dir, 'svc.sh'), `#!/bin/sh\necho "$*" >> ${log}\n`);
    chmodSync(join(dir, 'svc.sh'), 0o755);
    const svc = join(dir, 'svc.sh');
    writeFileSync(join(etc, 'system.toml'), `[init]\nname = "test"\nis_available = ["${svc}", "available"]\n${['restart', 'stop', 'start', 'enable', 'disable', 'is_active'].map((a) => `${a} = ["${svc}", "${a}", "{}"]`).join('\n')}\n`);
    const none = await runTedgeIn(etc, ['refresh-bridges'], { env: { TEDGE_MQTT_BRIDGE_BUILT_IN: 'false' } });
    assert.equal(none.code, 0, none.err);
    assert.match(none.out, /No bridges to refresh\./);
    writeFileSync(join(etc, 'mosquitto-conf', 'c8y-bridge.conf'), 'old\n');
    const run = await runTedgeIn(etc, ['refresh-bridges'], { env: { TEDGE_C8Y_URL: 'example.cumulocity.com', TEDGE_DEVICE_ID: 'dev1' } });
    assert.equal(run.code, 0, run.err);
    assert.equal(readFileSync(join(etc, 'mosquitto-conf', 'c8y-bridge.conf'), 'utf8'), '# This file is left empty as the built-in bridge is enabled\n');
    assert.match(readFileSync(join(etc, 'mosquitto-conf', 'tedge-mosquitto.conf'), 'utf8'), /listener 1883 127\.0\.0\.1/);
    assert.match(readFileSync(log, 'utf8'), /^restart mosquitto$/m);
  });
});
