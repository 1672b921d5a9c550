import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SimOperation } from '../../helpers/cloud-sim/c8y-behaviour';
import { BridgeDevice } from '../../helpers/bridge-device';
import { Daemon, runCli } from '../../helpers/daemon';
import { installDeviceFixture, rehomeDevicePaths } from '../../helpers/device-fixture';
import { freePort } from '../../helpers/mosquitto';
import { REPO_ROOT } from '../../helpers/paths';

const DEVICE = `te-device-it-${process.pid}`;

describe('rehomeDevicePaths: only absolute /etc/tedge and /var paths move', () => {
  const table: Array<[string, string]> = [
    ["path = '/etc/tedge/tedge.toml'", "path = '/r/etc/tedge/tedge.toml'"],
    ['logs = "/var/log/tedge"', 'logs = "/r/var/log/tedge"'],
    ['STATE=/var/lib/x/state\n', 'STATE=/r/var/lib/x/state\n'],
    ['/etc/tedge/operations/command ${.payload.x}', '/r/etc/tedge/operations/command ${.payload.x}'],
    ['/etc/mosquitto/mosquitto.conf /etc/tedgex /usr/var/a /variable', '/etc/mosquitto/mosquitto.conf /etc/tedgex /usr/var/a /variable'],
    ['a/etc/tedge/b', 'a/etc/tedge/b'],
  ];
  for (const [input, expected] of table) it(JSON.stringify(input), () => assert.equal(rehomeDevicePaths(input, '/r'), expected));
});

/**
 * A thin-edge.io device's /etc/tedge (tedge.toml, system.toml, plugins/, operations/, sm-plugins/), copied
 * unchanged but for its absolute paths, run against the Cumulocity simulator by our agent and c8y mapper as two
 * daemons, and as `tedge run all`.
 * The environment only says what a test must: the brokers' ports and the simulator's CA, no sudo, free HTTP ports.
 * Where the files come from (thin-edge.io's repository): the plugin TOMLs, `operations/command`, `c8y_Command`
 * (on_message) and the customized `software_update.toml` from its docs (the steps' scripts under /etc/tedge instead
 * of /usr/bin); `c8y_OpenDoor.template`, `open_door.toml`, `do_something.sh` from its RobotFramework tests;
 * system.toml's [init] from configuration/contrib/system/systemd.
 */
function deviceSuite(mode: 'tedge-agent and tedge-mapper c8y' | 'tedge run all'): void {
  describe(`a thin-edge.io device configuration directory, unchanged (${mode})`, { timeout: 60_000 }, () => {
    let dev: BridgeDevice;
    let root: string;
    let configDir: string;
    let agent: Daemon | undefined;

    async function finished(id: string, timeoutMs = 15_000): Promise<SimOperation> {
      await dev.sim.waitFor(() => ['SUCCESSFUL', 'FAILED'].includes(dev.sim.c8y.operations.get(id)?.status ?? ''), `operation ${id} to finish`, timeoutMs);
      const op = dev.sim.c8y.operations.get(id);
      assert.ok(op);
      return op;
    }
    const s_us = (prefix: string): string[][] => dev.sim.messages('s/us').filter((p) => p.startsWith(`${prefix},`)).map((p) => p.split(','));

    before(async () => {
      dev = await BridgeDevice.start({ deviceId: DEVICE, noCertificate: true, probeTopics: ['te/errors', 'te/device/main///cmd/+/+'] });
      root = dev.configDir;
      configDir = installDeviceFixture(join(REPO_ROOT, 'test', 'fixtures', 'thin-edge-device'), root);
      // What the OS provides on a device (/run, /tmp), not the configuration directory.
      for (const d of ['run', 'tmp']) mkdirSync(join(root, d));
      dev.sim.issueDeviceCertificate(DEVICE, join(configDir, 'device-certs', 'tedge-certificate.pem'), join(configDir, 'device-certs', 'tedge-private-key.pem'));
      dev.sim.c8y.identify(DEVICE);
      // tedge.toml's c8y.url and data.path stand; the simulator's endpoints are the test's only cloud settings.
      delete dev.env['TEDGE_C8Y_URL'];
      delete dev.env['TEDGE_DATA_PATH'];
      Object.assign(dev.env, {
        TEDGE_CONFIG_DIR: configDir,
        TEDGE_RUN_PATH: join(root, 'run'),
        TEDGE_TMP_PATH: join(root, 'tmp'),
        TEDGE_SUDO_ENABLE: 'false',
        TEDGE_HTTP_BIND_PORT: String(await freePort()),
        TEDGE_C8Y_PROXY_BIND_PORT: String(await freePort()),
      });
      if (mode === 'tedge run all') {
        dev.mapper = Daemon.start('tedge', ['run', 'all'], dev.env);
      } else {
        agent = Daemon.start('tedge-agent', [], dev.env);
        dev.startMapper();
      }
      await dev.bridgeUp();
    });

    after(async () => {
      if (agent && !agent.exited) await agent.stop();
      await dev?.stop();
    });

    it('tedge config get reads tedge.toml (c8y.url, logs.path) and the device id from the certificate it names', async () => {
      const get = async (key: string): Promise<string> => {
        const r = await runCli('tedge', ['config', 'get', key], { TEDGE_CONFIG_DIR: configDir });
        assert.equal(r.code, 0, r.stderr);
        return r.stdout.trim();
      };
      assert.equal(await get('c8y.url'), 'mytenant.cumulocity.com');
      assert.equal(await get('logs.path'), join(root, 'var/log/tedge'));
      assert.equal(await get('device.id'), DEVICE);
    });

    it('the config types of tedge-configuration-plugin.toml (119) and the log types of tedge-log-plugin.toml (118) reach the cloud', async () => {
      const has = (prefix: string, types: string[]) => (): boolean => s_us(prefix).some((f) => types.every((t) => f.includes(t)));
      await dev.sim.waitFor(has('119', ['tedge-configuration-plugin', 'tedge.toml', 'c8y-bridge', 'tedge-mosquitto', 'app-conf', 'mosquitto']), '119 with the plugin TOML types');
      await dev.sim.waitFor(has('118', ['mosquitto', 'software-management', 'c8y_CustomOperation']), '118 with the log plugin types');
    });

    it('the 114 lists the custom operations and the workflow operation beside the builtin ones', async () => {
      const wanted = ['c8y_Command', 'c8y_SetSpeed', 'c8y_OpenDoor', 'c8y_SoftwareUpdate', 'c8y_UploadConfigFile', 'c8y_LogfileRequest', 'c8y_Restart'];
      await dev.sim.waitFor(() => s_us('114').some((f) => wanted.every((n) => f.includes(n))), `a 114 with ${wanted.join(' ')}`);
    });

    it('c8y_SoftwareUpdate: the user workflow around the builtin step runs the shell sm-plugin; the software list reaches the cloud', async () => {
      const id = await dev.sim.createOperation({ c8y_SoftwareUpdate: [{ name: 'nano', version: '2.0', softwareType: 'script', action: 'install', url: '' }] }, DEVICE);
      const op = await finished(id);
      assert.equal(op.status, 'SUCCESSFUL', op.failureReason);
      assert.equal(readFileSync(join(root, 'var/lib/tedge-script-plugin/installed.tsv'), 'utf8'), 'nano\t2.0\n');
      assert.deepEqual(readFileSync(join(root, 'var/lib/tedge-script-plugin/calls'), 'utf8').split('\n').filter(Boolean), ['prepare', 'install nano', 'finalize']);
      assert.deepEqual(readFileSync(join(root, 'var/lib/app/software-update.steps'), 'utf8').split('\n').filter(Boolean), ['schedule', 'commit']);
      const list = (): Array<Record<string, unknown>> => (dev.sim.managedObject(DEVICE)?.['c8y_SoftwareList'] as Array<Record<string, unknown>> | undefined) ?? [];
      await dev.sim.waitFor(() => list().some((m) => m['name'] === 'nano'), 'the software list with nano');
      assert.deepEqual(list().find((m) => m['name'] === 'nano'), { name: 'nano', version: '2.0', softwareType: 'script', url: '' });
      const removed = await finished(await dev.sim.createOperation({ c8y_SoftwareUpdate: [{ name: 'nano', version: '2.0', softwareType: 'script', action: 'delete', url: '' }] }, DEVICE));
      assert.equal(removed.status, 'SUCCESSFUL', removed.failureReason);
      assert.equal(readFileSync(join(root, 'var/lib/tedge-script-plugin/installed.tsv'), 'utf8'), '');
      await dev.sim.waitFor(() => !list().some((m) => m['name'] === 'nano'), 'the software list without nano');
    });

    it('c8y_LogfileRequest of the log plugin TOML type software-management: the agent log of that update, as thin-edge names it', async () => {
      const now = Date.now();
      const id = await dev.sim.createOperation({ c8y_LogfileRequest: { logFile: 'software-management', dateFrom: new Date(now - 3_600_000).toISOString(), dateTo: new Date(now + 3_600_000).toISOString(), searchText: '', maximumLines: 1000 } }, DEVICE);
      const op = await finished(id);
      assert.equal(op.status, 'SUCCESSFUL', op.failureReason);
      const m = /\/event\/events\/(\d+)\/binaries$/.exec(op.result ?? '');
      assert.ok(m, op.result);
      assert.match(dev.sim.http.eventFile(m[1] ?? '') ?? '', /nano/);
    });

    it('a custom operation on_fragment (c8y_SetSpeed) runs its command and reports its output', async () => {
      const op = await finished(await dev.sim.createOperation({ c8y_SetSpeed: { value: '42' } }, DEVICE));
      assert.equal(op.status, 'SUCCESSFUL', op.failureReason);
      assert.equal(op.result, 'speed set to 42\n');
      assert.equal(readFileSync(join(root, 'var/lib/app/speed.conf'), 'utf8'), 'speed = 42\n');
    });

    it('a custom operation on_message 511 (c8y_Command) runs the documented handler with the SmartREST line: 501, then 503 with its output', async () => {
      await dev.sim.publish('s/ds', `511,${DEVICE},echo hello`);
      await dev.sim.waitFor(() => s_us('503').some((f) => f[1] === 'c8y_Command'), '503,c8y_Command');
      assert.ok(dev.sim.messages('s/us').includes('501,c8y_Command'));
      const done = dev.sim.messages('s/us').find((p) => p.startsWith('503,c8y_Command,'));
      assert.equal(done, '503,c8y_Command,"hello\n"', 'stdout as written, final newline included');
    });

    it('a workflow operation (c8y_OpenDoor template → open_door.toml) runs its script and succeeds', async () => {
      const op = await finished(await dev.sim.createOperation({ c8y_OpenDoor: { delay: 1, user: 'bob' } }, DEVICE));
      assert.equal(op.status, 'SUCCESSFUL', op.failureReason);
      const cmd = dev.probe.received.filter((m) => m.topic.startsWith('te/device/main///cmd/open_door/')).map((m) => Buffer.from(m.payload).toString());
      assert.ok(cmd.some((t) => t.includes('"something":"1 bob"')), cmd.join('\n'));
    });

    it('c8y_UploadConfigFile of a type from the plugin TOML uploads that file', async () => {
      const op = await finished(await dev.sim.createOperation({ c8y_UploadConfigFile: { type: 'tedge.toml' } }, DEVICE));
      assert.equal(op.status, 'SUCCESSFUL', op.failureReason);
      const m = /\/event\/events\/(\d+)\/binaries$/.exec(op.result ?? '');
      assert.ok(m, op.result);
      assert.equal(dev.sim.http.eventFile(m[1] ?? ''), readFileSync(join(configDir, 'tedge.toml'), 'utf8'));
      assert.ok(existsSync(join(root, 'var/log/tedge/agent')), 'the agent logs under tedge.toml logs.path');
      assert.ok(existsSync(join(root, 'var/tedge/bridge/c8y/outbox')), 'the bridge outbox under tedge.toml data.path');
    });
  });
}

deviceSuite('tedge-agent and tedge-mapper c8y');
deviceSuite('tedge run all');
