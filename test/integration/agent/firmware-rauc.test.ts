import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../../helpers/paths';
import { FirmwareRig } from './firmware-setup';

/**
 * The RAUC firmware backend (packaging/firmware/tedge-firmware-rauc) against the real RAUC from Debian:
 * two ext4 slots on loop devices, RAUC's `custom` bootloader backend played by a script of this test
 * (primary and per-slot state in files), a private D-Bus system bus for the RAUC service, and bundles
 * signed by a test CA. A "reboot" is a restart of the RAUC service with --override-boot-slot set to the
 * bootloader's primary. Needs root (losetup); skipped with the reason elsewhere.
 */

const BACKEND = join(REPO_ROOT, 'packaging', 'firmware', 'tedge-firmware-rauc');
const TOOLS = ['rauc', 'dbus-daemon', 'mksquashfs', 'losetup', 'mkfs.ext4', 'debugfs', 'openssl'];

function onPath(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { env: { ...process.env, PATH: `${process.env['PATH'] ?? ''}:/usr/sbin:/sbin` } }).status === 0;
}

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for loop devices (losetup)';
  const missing = TOOLS.filter((t) => !onPath(t));
  if (missing.length > 0) return `missing ${missing.join(', ')} (TEDGE_SETUP_RAUC=1 bash scripts/setup.sh installs them)`;
  return undefined;
}

const ENV = { ...process.env, PATH: `${process.env['PATH'] ?? ''}:/usr/sbin:/sbin` };

function run(program: string, args: readonly string[], env: NodeJS.ProcessEnv = ENV): string {
  return execFileSync(program, [...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('firmware backend: rauc (real RAUC, loop-device slots, signed bundles)', { timeout: 60_000 }, () => {
  const reason = skipReason();
  let dir = '';
  const loops: string[] = [];
  const daemons: ChildProcess[] = [];
  let env: NodeJS.ProcessEnv = ENV;
  let attachError: string | undefined;

  /** The backend as the agent calls it: argv only, the D-Bus address of our bus in the environment. */
  function backend(...args: string[]): { code: number; stdout: string; stderr: string } {
    const r = spawnSync(BACKEND, args, { env, encoding: 'utf8', timeout: 30_000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  function status(): { booted: string; boot_primary: string; slots: Array<Record<string, { bootname: string; boot_status: string }>> } {
    return JSON.parse(run('rauc', ['status', '--output-format=json'], env)) as ReturnType<typeof status>;
  }

  function bootStatus(bootname: string): string | undefined {
    for (const s of status().slots) for (const v of Object.values(s)) if (v.bootname === bootname) return v.boot_status;
    return undefined;
  }

  /** The file /version of the ext4 file system on a slot, read without mounting it. */
  function slotVersion(device: string): string {
    return run('debugfs', ['-R', 'cat /version', device]).trim();
  }

  /** The bootloader boots its primary: boot.sh starts the RAUC service again with that slot booted. */
  async function boot(): Promise<string> {
    run(join(dir, 'boot.sh'), [], env);
    return waitForService();
  }

  async function waitForService(): Promise<string> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (spawnSync('rauc', ['status', '--output-format=json'], { env }).status === 0) return status().booted;
      if (Date.now() > deadline) throw new Error('the RAUC service did not come up');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  function bundle(name: string, version: string, signer: string): string {
    const src = join(dir, `bundle-${version}`);
    mkdirSync(join(src, 'content'), { recursive: true });
    writeFileSync(join(src, 'content', 'version'), `${version}\n`);
    run('mkfs.ext4', ['-q', '-F', '-L', `fw-${version}`, '-d', join(src, 'content'), join(src, 'rootfs.ext4'), '8M']);
    rmSync(join(src, 'content'), { recursive: true });
    writeFileSync(join(src, 'manifest.raucm'), `[update]\ncompatible=tedge-ts-test\nversion=${version}\n\n[bundle]\nformat=plain\n\n[image.rootfs]\nfilename=rootfs.ext4\n`);
    const out = join(dir, `${name}.raucb`);
    run('rauc', ['bundle', `--cert=${join(dir, 'pki', `${signer}.crt`)}`, `--key=${join(dir, 'pki', `${signer}.key`)}`, src, out], env);
    return out;
  }

  before(async () => {
    if (reason !== undefined) return;
    dir = mkdtempSync(join(tmpdir(), 'tedge-rauc-'));
    for (const slot of ['a', 'b']) {
      const file = join(dir, `slot-${slot}.img`);
      run('truncate', ['-s', '16M', file]);
      try {
        loops.push(run('losetup', ['--find', '--show', file]).trim());
      } catch (err) {
        attachError = `losetup refused: ${String((err as { stderr?: string }).stderr ?? err).trim()}`;
        return;
      }
    }
    const [a = '', b = ''] = loops;
    for (const dev of loops) run('mkfs.ext4', ['-q', '-F', '-L', 'fw-1.0', '-d', mkVersionDir(dir, '1.0'), dev]);

    // Test PKI: a CA in RAUC's keyring and a signer it issued; a second CA RAUC does not know.
    const pki = join(dir, 'pki');
    mkdirSync(pki);
    for (const ca of ['ca', 'rogue-ca']) run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(pki, `${ca}.key`), '-out', join(pki, `${ca}.crt`), '-days', '2', '-subj', `/CN=${ca}`]);
    writeFileSync(join(pki, 'leaf.cnf'), '[leaf]\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n');
    for (const [signer, ca] of [['signer', 'ca'], ['rogue', 'rogue-ca']] as const) {
      run('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(pki, `${signer}.key`), '-out', join(pki, `${signer}.csr`), '-subj', `/CN=${signer}`]);
      run('openssl', ['x509', '-req', '-in', join(pki, `${signer}.csr`), '-CA', join(pki, `${ca}.crt`), '-CAkey', join(pki, `${ca}.key`), '-CAcreateserial', '-out', join(pki, `${signer}.crt`), '-days', '2', '-extfile', join(pki, 'leaf.cnf'), '-extensions', 'leaf']);
    }

    // RAUC's custom bootloader backend, as a bootloader with one primary and a good/bad state per slot.
    const bl = join(dir, 'bl');
    mkdirSync(bl);
    writeFileSync(join(bl, 'primary'), 'A\n');
    const handler = join(dir, 'bootloader.sh');
    writeFileSync(
      handler,
      `#!/bin/sh\nD=${JSON.stringify(bl)}\necho "$*" >> "$D/calls.log"\ncase "$1" in\n  get-primary) cat "$D/primary" ;;\n  set-primary) echo "$2" > "$D/primary" ;;\n  get-state) cat "$D/state.$2" 2>/dev/null || echo good ;;\n  set-state) echo "$3" > "$D/state.$2" ;;\n  *) exit 1 ;;\nesac\n`,
    );
    chmodSync(handler, 0o755);
    writeFileSync(
      join(dir, 'system.conf'),
      `[system]\ncompatible=tedge-ts-test\nbootloader=custom\ndata-directory=${join(dir, 'rauc-data')}\n\n[keyring]\npath=${join(pki, 'ca.crt')}\n\n[handlers]\nbootloader-custom-backend=${handler}\n\n[slot.rootfs.0]\ndevice=${a}\ntype=ext4\nbootname=A\n\n[slot.rootfs.1]\ndevice=${b}\ntype=ext4\nbootname=B\n`,
    );
    mkdirSync(join(dir, 'rauc-data'));

    // A private system bus: the rauc CLI talks to its service over D-Bus.
    const socket = join(dir, 'bus.sock');
    writeFileSync(
      join(dir, 'dbus.conf'),
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">\n<busconfig><type>system</type><listen>unix:path=${socket}</listen><auth>EXTERNAL</auth><policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy></busconfig>\n`,
    );
    daemons.push(spawn('dbus-daemon', [`--config-file=${join(dir, 'dbus.conf')}`, '--nofork'], { stdio: 'ignore' }));
    env = { ...ENV, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${socket}` };
    // The "bootloader": stop the RAUC service, start it again with the primary slot booted (pid in rauc.pid).
    // reboot.sh is the agent's system.toml reboot command: a boot, run.path cleared, the agent stopped.
    const pidFile = JSON.stringify(join(dir, 'rauc.pid'));
    writeFileSync(
      join(dir, 'boot.sh'),
      `#!/bin/sh\nexport DBUS_SYSTEM_BUS_ADDRESS=${JSON.stringify(env['DBUS_SYSTEM_BUS_ADDRESS'])}\nif [ -f ${pidFile} ]; then p=$(cat ${pidFile}); kill "$p" 2>/dev/null; while kill -0 "$p" 2>/dev/null; do sleep 0.05; done; fi\nrauc service --conf=${JSON.stringify(join(dir, 'system.conf'))} --override-boot-slot=$(cat ${JSON.stringify(join(bl, 'primary'))}) </dev/null >/dev/null 2>&1 &\necho $! > ${pidFile}\n` +
        // Booted means the service answers: on a loaded machine it takes a while to own its D-Bus name.
        `i=0; while [ $i -lt 200 ] && ! rauc status >/dev/null 2>&1; do sleep 0.05; i=$((i+1)); done\n`,
    );
    writeFileSync(join(dir, 'reboot.sh'), `#!/bin/sh\n${JSON.stringify(join(dir, 'boot.sh'))}\nrm -rf "$1"; mkdir -p "$1"\nkill -TERM $PPID\n`);
    chmodSync(join(dir, 'boot.sh'), 0o755);
    chmodSync(join(dir, 'reboot.sh'), 0o755);
    for (let i = 0; i < 50 && spawnSync('test', ['-S', socket]).status !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    await boot();
  });

  after(async () => {
    spawnSync('sh', ['-c', `kill $(cat ${JSON.stringify(join(dir, 'rauc.pid'))}) 2>/dev/null`]);
    for (const d of daemons) await stopProcess(d);
    // Always detached, whatever failed: loop devices are a machine-wide resource.
    for (const dev of loops) spawnSync('losetup', ['-d', dev], { env: ENV });
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('install → trial boot of B → mark-good; install → boot A → mark-bad rolls back to B; a bundle of another CA is refused', { skip: reason }, async (t) => {
    if (attachError !== undefined) {
      t.skip(attachError);
      return;
    }
    const [a = '', b = ''] = loops;
    assert.equal(backend('booted-slot').stdout.trim(), 'A');

    // v2 goes into the inactive slot B, which RAUC makes the primary.
    const v2 = backend('install', bundle('fw2', '2.0', 'signer'), '--name', 'os', '--version', '2.0');
    assert.equal(v2.code, 0, v2.stderr);
    assert.equal(v2.stdout.trim().split('\n').at(-1), 'B');
    assert.equal(slotVersion(b), '2.0');
    assert.equal(slotVersion(a), '1.0');
    assert.equal(status().boot_primary, 'rootfs.1');

    // The trial boot: B is booted, and committed.
    assert.equal(await boot(), 'B');
    assert.equal(backend('booted-slot').stdout.trim(), 'B');
    const good = backend('mark-good');
    assert.equal(good.code, 0, good.stderr);
    assert.equal(bootStatus('B'), 'good');
    assert.equal(status().boot_primary, 'rootfs.1');

    // v3 goes into A; its trial boot fails the health gate: mark-bad makes B the primary again.
    const v3 = backend('install', bundle('fw3', '3.0', 'signer'), '--name', 'os', '--version', '3.0');
    assert.equal(v3.code, 0, v3.stderr);
    assert.equal(v3.stdout.trim().split('\n').at(-1), 'A');
    assert.equal(slotVersion(a), '3.0');
    assert.equal(await boot(), 'A');
    const bad = backend('mark-bad');
    assert.equal(bad.code, 0, bad.stderr);
    assert.equal(bootStatus('A'), 'bad');
    assert.equal(status().boot_primary, 'rootfs.1');
    assert.equal(await boot(), 'B');
    assert.equal(backend('booted-slot').stdout.trim(), 'B');

    // mark-bad on the old slot (the trial reboot never happened): the install is disarmed.
    assert.equal(backend('install', bundle('fw4', '4.0', 'signer'), '--name', 'os', '--version', '4.0').code, 0);
    assert.equal(status().boot_primary, 'rootfs.0');
    assert.equal(backend('mark-bad').code, 0);
    assert.equal(status().boot_primary, 'rootfs.1');
    assert.equal(bootStatus('A'), 'bad');

    // Signed by a CA RAUC does not trust: refused, the inactive slot untouched.
    const rogue = backend('install', bundle('rogue', '9.9', 'rogue'), '--name', 'os', '--version', '9.9');
    assert.equal(rogue.code, 2);
    assert.match(rogue.stderr, /signature|verif/i);
    assert.equal(slotVersion(a), '4.0');
    assert.equal(status().boot_primary, 'rootfs.1');
  });

  /** The agent itself over the RAUC backend: its system.toml reboot is reboot.sh (the RAUC service restarted on the primary). */
  async function agentUpdate(t: { skip: (m: string) => void }, id: string, version: string, env0: Record<string, string>): Promise<Record<string, unknown> | undefined> {
    if (attachError !== undefined) {
      t.skip(attachError);
      return undefined;
    }
    const image = readFileSync(bundle(`agent-${version}`, version, 'signer'));
    const rig = await FirmwareRig.start({ image, env: { TEDGE_FIRMWARE_BACKEND: BACKEND, DBUS_SYSTEM_BUS_ADDRESS: env['DBUS_SYSTEM_BUS_ADDRESS'] ?? '', ...env0 } });
    try {
      writeFileSync(join(rig.dir, 'config', 'system.toml'), `[system]\nreboot = ${JSON.stringify([join(dir, 'reboot.sh'), join(rig.dir, 'run')])}\n`);
      await rig.startAgent();
      await rig.request(id, { version, sha256: createHash('sha256').update(image).digest('hex') });
      const done = await rig.runToEnd(id, 40_000);
      await waitForService();
      return done;
    } finally {
      await rig.stop();
    }
  }

  it('the agent updates through RAUC: install into A, trial boot, health gate, mark-good', { skip: reason }, async (t) => {
    const done = await agentUpdate(t, 'rauc-ok', '5.0', {});
    if (done === undefined) return;
    assert.equal(done['status'], 'successful', JSON.stringify(done));
    assert.equal(slotVersion(loops[0] ?? ''), '5.0');
    assert.equal(status().booted, 'A');
    assert.equal(status().boot_primary, 'rootfs.0');
    assert.equal(bootStatus('A'), 'good');
  });

  it('the agent through RAUC: the health gate fails → mark-bad, reboot, back on A', { skip: reason }, async (t) => {
    const done = await agentUpdate(t, 'rauc-hg', '6.0', { TEDGE_C8Y_URL: 'tenant.example.com', TEDGE_FIRMWARE_HEALTH_TIMEOUT: '2s' });
    if (done === undefined) return;
    assert.equal(done['status'], 'failed');
    assert.match(String(done['reason']), /^health check failed: .*; rolled back to A$/);
    assert.equal(slotVersion(loops[1] ?? ''), '6.0');
    assert.equal(status().booted, 'A');
    assert.equal(status().boot_primary, 'rootfs.0');
    assert.equal(bootStatus('B'), 'bad');
  });
});

function mkVersionDir(dir: string, version: string): string {
  const d = join(dir, `initial-${version}`);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'version'), `${version}\n`);
  return d;
}

function stopProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    p.once('exit', () => resolve());
    p.kill('SIGTERM');
  });
}
