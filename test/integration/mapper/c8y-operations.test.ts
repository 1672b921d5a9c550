import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SimOperation } from '../../helpers/cloud-sim/c8y-behaviour';
import { BridgeDevice } from '../../helpers/bridge-device';
import { BIN_DIR, Daemon } from '../../helpers/daemon';
import { freePort } from '../../helpers/mosquitto';

const DEVICE = `c8y-ops-it-${process.pid}`;
const CHILD = `${DEVICE}:device:kid`;

/** A script sm-plugin of type `fake` keeping its installed modules in a TSV file. */
const PLUGIN = (state: string): string => `#!/bin/sh
touch "${state}"
case "$1" in
  list) cat "${state}" ;;
  prepare|finalize) ;;
  install) printf '%s\\t%s\\n' "$2" "$4" >> "${state}" ;;
  remove) grep -v "^$2	" "${state}" > "${state}.new"; mv "${state}.new" "${state}" ;;
  *) exit 1 ;;
esac
`;

/**
 * Cumulocity operations end to end on real processes: the cloud simulator creates an operation, the built-in
 * bridge carries it to the local mosquitto, tedge-mapper c8y turns it into a te/ command, the real tedge-agent
 * runs it, and the status (and results) go back to the simulated tenant. One device for the whole file.
 */
describe('tedge-mapper c8y operations: cloud → mapper → agent → cloud', { timeout: 60_000 }, () => {
  let dev: BridgeDevice;
  let agentEnv: Record<string, string>;
  let agent: Daemon;
  let childAgent: Daemon;

  const startAgent = (): Daemon => (agent = Daemon.start('tedge-agent', [], agentEnv));

  async function finished(id: string, timeoutMs = 20_000): Promise<SimOperation> {
    await dev.sim.waitFor(() => {
      const s = dev.sim.c8y.operations.get(id)?.status;
      return s === 'SUCCESSFUL' || s === 'FAILED';
    }, `operation ${id} to finish`, timeoutMs);
    const op = dev.sim.c8y.operations.get(id);
    assert.ok(op);
    return op;
  }

  before(async () => {
    dev = await BridgeDevice.start({ deviceId: DEVICE, probeTopics: ['te/errors', 'te/device/main///cmd/+/+'], env: { TEDGE_C8Y_PROXY_BIND_PORT: String(await freePort()), TEDGE_HTTP_BIND_PORT: String(await freePort()) } });
    const dir = dev.configDir;
    for (const d of ['state', 'logs', 'run', 'tmp', 'sm-plugins', 'plugins', 'operations/c8y']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'sm-plugins', 'fake'), PLUGIN(join(dir, 'fake.state')));
    // Enough installed modules that the software list is larger than an MQTT message to Cumulocity (16184 bytes).
    writeFileSync(join(dir, 'fake.state'), Array.from({ length: 400 }, (_, i) => `preinstalled-module-${i}\t1.0.${i}\n`).join(''));
    chmodSync(join(dir, 'sm-plugins', 'fake'), 0o755);
    writeFileSync(join(dir, 'app.log'), 'boot\nERROR disk full\nall good\n');
    writeFileSync(join(dir, 'app.conf'), 'speed = 3\n');
    writeFileSync(join(dir, 'plugins', 'tedge-log-plugin.toml'), `files = [{ type = "app", path = "${join(dir, 'app.log')}" }]\n`);
    writeFileSync(join(dir, 'plugins', 'tedge-configuration-plugin.toml'), `files = [{ type = "app-conf", path = "${join(dir, 'app.conf')}" }]\n`);
    // A reboot as far as the agent can tell: /run emptied and the agent stopped; the test starts it again.
    writeFileSync(join(dir, 'fake-reboot.sh'), '#!/bin/sh\nrm -rf "$1"\nkill -TERM "$PPID"\n');
    chmodSync(join(dir, 'fake-reboot.sh'), 0o755);
    writeFileSync(join(dir, 'system.toml'), `[system]\nreboot = ${JSON.stringify([join(dir, 'fake-reboot.sh'), join(dir, 'run')])}\nreboot_timeout_seconds = 30\n`);
    // Operations directory: a static operation and a custom command (argv template, never a shell).
    writeFileSync(join(dir, 'operations', 'c8y', 'c8y_Static'), '');
    mkdirSync(join(dir, 'operations', 'c8y', CHILD));
    writeFileSync(join(dir, 'operations', 'c8y', CHILD, 'c8y_ChildOnly'), '');
    writeFileSync(join(dir, 'operations', 'c8y', 'c8y_Sleep'), '[exec]\non_fragment = "c8y_Sleep"\ncommand = "/bin/sleep ${.payload.c8y_Sleep.seconds}"\ntimeout = 60\n');
    writeFileSync(join(dir, 'operations', 'c8y', 'c8y_Echo'), '[exec]\non_fragment = "c8y_Echo"\ncommand = "/bin/echo ${.payload.c8y_Echo.text}"\ntimeout = 5\n');
    // A custom operation handed to the agent: the mapper's template and the agent's workflow.
    writeFileSync(join(dir, 'operations', 'c8y', 'c8y_MyOp.template'), '[exec]\non_fragment = "c8y_MyOp"\n[exec.workflow]\noperation = "my_op"\ninput = { x = "${.payload.c8y_MyOp.x}" }\noutput = "${.payload.result}"\n');
    writeFileSync(join(dir, 'wf.sh'), '#!/bin/sh\necho ":::begin-tedge:::"\necho "{\\"result\\":\\"got $1\\"}"\necho ":::end-tedge:::"\n');
    chmodSync(join(dir, 'wf.sh'), 0o755);
    writeFileSync(join(dir, 'operations', 'my_op.toml'), `operation = "my_op"\n[init]\naction = "proceed"\non_success = "executing"\n[executing]\nscript = "${join(dir, 'wf.sh')} \${.payload.x}"\non_success = "successful"\n[successful]\naction = "cleanup"\n[failed]\naction = "cleanup"\n`);
    dev.sim.c8y.identify(DEVICE);
    // The shipped device_profile workflow publishes its twin with `tedge mqtt pub`: the built CLI on PATH.
    mkdirSync(join(dir, 'bin'), { recursive: true });
    writeFileSync(join(dir, 'bin', 'tedge'), `#!/bin/sh\nexec "${process.execPath}" "${BIN_DIR}/tedge.js" "$@"\n`);
    chmodSync(join(dir, 'bin', 'tedge'), 0o755);
    agentEnv = {
      ...dev.env,
      PATH: `${join(dir, 'bin')}:${process.env['PATH'] ?? ''}`,
      TEDGE_AGENT_STATE_PATH: join(dir, 'state'),
      TEDGE_LOGS_PATH: join(dir, 'logs'),
      TEDGE_RUN_PATH: join(dir, 'run'),
      TEDGE_TMP_PATH: join(dir, 'tmp'),
      TEDGE_SUDO_ENABLE: 'false',
      // A file transfer service that takes at most 64 KiB: a larger tenant binary cannot be handed to the agent.
      TEDGE_HTTP_FILE_TRANSFER_MAX_BYTES: String(64 * 1024),
    };
    // The mapper finds the agent's operation logs under the same logs.path.
    dev.env['TEDGE_LOGS_PATH'] = agentEnv['TEDGE_LOGS_PATH'] ?? '';
    startAgent();
    // The child's own agent, on the same broker: the main agent registers device/kid// from its health.
    childAgent = Daemon.start('tedge-agent', ['--mqtt-device-topic-id', 'device/kid//'], { ...agentEnv, TEDGE_AGENT_STATE_PATH: join(dir, 'child-state') });
    dev.startMapper();
    await dev.bridgeUp();
  });

  after(async () => {
    if (childAgent && !childAgent.exited) await childAgent.stop();
    if (agent && !agent.exited) await agent.stop();
    await dev?.stop();
  });

  it('announces the agent capabilities, the operations directory and the log/config types', async () => {
    const has114 = (): boolean => dev.sim.messages('s/us').some((p) => p.startsWith('114,') && ['c8y_Echo', 'c8y_LogfileRequest', 'c8y_Restart', 'c8y_SoftwareUpdate', 'c8y_Static', 'c8y_UploadConfigFile'].every((n) => p.split(',').includes(n)));
    await dev.sim.waitFor(has114, 'a 114 with builtin, static and custom operations');
    await dev.sim.waitFor(() => dev.sim.messages('s/us').some((p) => p.startsWith('118,') && p.split(',').includes('app')), '118 with the log type');
    await dev.sim.waitFor(() => dev.sim.messages('s/us').some((p) => p.startsWith('119,') && p.split(',').includes('app-conf')), '119 with the config type');
    await dev.sim.waitFor(() => dev.sim.messages('s/us').includes('117,60'), 'the required availability');
  });

  it('a file added to the operations directory is announced without a restart (the mapper signals its own sync)', async () => {
    writeFileSync(join(dev.configDir, 'operations', 'c8y', 'c8y_Added'), '');
    await dev.sim.waitFor(() => dev.sim.messages('s/us').some((p) => p.startsWith('114,') && p.split(',').includes('c8y_Added') && p.split(',').includes('c8y_Restart')), 'a 114 with c8y_Added', 15_000);
  });

  it('c8y_SoftwareUpdate: installed by the sm-plugin, SUCCESSFUL, then the software list (legacy: over HTTP, larger than an MQTT message)', async () => {
    const id = await dev.sim.createOperation({ c8y_SoftwareUpdate: [{ name: 'nano', version: '2.0', softwareType: 'fake', action: 'install', url: '' }] }, DEVICE);
    const op = await finished(id);
    assert.equal(op.status, 'SUCCESSFUL', op.failureReason);
    const list = (): Array<Record<string, unknown>> => (dev.sim.managedObject(DEVICE)?.['c8y_SoftwareList'] as Array<Record<string, unknown>> | undefined) ?? [];
    await dev.sim.waitFor(() => list().some((m) => m['name'] === 'nano'), 'the software list with nano');
    assert.equal(list().length, 401);
    assert.deepEqual(list().find((m) => m['name'] === 'nano'), { name: 'nano', version: '2.0', softwareType: 'fake', url: '' });
    assert.ok(JSON.stringify({ c8y_SoftwareList: list() }).length > 16_184, 'the list is larger than the MQTT limit');
    assert.ok(!dev.sim.messages(`inventory/managedObjects/update/${DEVICE}`).some((p) => p.includes('c8y_SoftwareList')), 'not over MQTT');
  });

  it('c8y_DeviceProfile: announced, run by the shipped workflow (a software_update sub-operation), 121,true, SUCCESSFUL, the profile in the inventory', async () => {
    await dev.sim.waitFor(() => dev.sim.messages('s/us').some((p) => p.startsWith('114,') && p.split(',').includes('c8y_DeviceProfile')), 'c8y_DeviceProfile in the 114');
    const id = await dev.sim.createOperation({ profileName: 'prod-v1', c8y_DeviceProfile: { software: [{ name: 'vim', version: '9.0', softwareType: 'fake', action: 'install', url: '' }] } }, DEVICE);
    const op = await finished(id);
    assert.equal(op.status, 'SUCCESSFUL', op.failureReason);
    assert.ok(dev.sim.messages('s/us').includes('121,true'));
    assert.match(readFileSync(join(dev.configDir, 'fake.state'), 'utf8'), /^vim\t9\.0$/m);
    const profiled = (): boolean => dev.sim.messages(`inventory/managedObjects/update/${DEVICE}`).some((p) => p.includes('"device_profile"') && p.includes('"prod-v1"'));
    await dev.sim.waitFor(profiled, 'the device_profile fragment in the inventory');
  });

  it('a custom operation command: its stdout is the result', async () => {
    const id = await dev.sim.createOperation({ c8y_Echo: { text: 'hello; rm -rf /' } }, DEVICE);
    const op = await finished(id);
    assert.equal(op.status, 'SUCCESSFUL', op.failureReason);
    assert.equal(op.result, 'hello; rm -rf /\n');
  });

  it('a custom operation command running when the mapper stops is failed: at the stop, or after a kill -9 at the next start', async () => {
    const restart = async (): Promise<void> => {
      dev.startMapper();
      await dev.bridgeUp();
    };
    const stopped = await dev.sim.createOperation({ c8y_Sleep: { seconds: '20' } }, DEVICE);
    await dev.sim.waitFor(() => dev.sim.c8y.operations.get(stopped)?.status === 'EXECUTING', 'the first sleep EXECUTING');
    await dev.mapper?.stop();
    await restart();
    const first = await finished(stopped);
    assert.equal(first.status, 'FAILED');
    assert.equal(first.failureReason, 'the mapper stopped while the command was running');

    const killed = await dev.sim.createOperation({ c8y_Sleep: { seconds: '20' } }, DEVICE);
    await dev.sim.waitFor(() => dev.sim.c8y.operations.get(killed)?.status === 'EXECUTING', 'the second sleep EXECUTING');
    await dev.mapper?.stop('SIGKILL');
    await restart();
    const second = await finished(killed);
    assert.equal(second.status, 'FAILED');
    assert.equal(second.failureReason, 'c8y_Sleep: the mapper stopped while its command was running; the result is lost');
  });

  it('a workflow-backed custom operation: the agent capability adds it to the 114, the workflow runs it, its output is the result', async () => {
    await dev.sim.waitFor(() => dev.sim.messages('s/us').some((p) => p.startsWith('114,') && p.split(',').includes('c8y_MyOp')), 'c8y_MyOp in the 114');
    const op = await finished(await dev.sim.createOperation({ c8y_MyOp: { x: 'hi there' } }, DEVICE));
    assert.equal(op.status, 'SUCCESSFUL', op.failureReason);
    assert.equal(op.result, 'got hi there');
  });

  it('c8y_LogfileRequest: the log reaches the tenant as an event binary', async () => {
    const now = Date.now();
    const id = await dev.sim.createOperation({ c8y_LogfileRequest: { logFile: 'app', dateFrom: new Date(now - 3_600_000).toISOString(), dateTo: new Date(now + 3_600_000).toISOString(), searchText: 'ERROR', maximumLines: 100 } }, DEVICE);
    const op = await finished(id);
    assert.equal(op.status, 'SUCCESSFUL', op.failureReason);
    const m = /\/event\/events\/(\d+)\/binaries$/.exec(op.result ?? '');
    assert.ok(m, op.result);
    assert.match(dev.sim.http.eventFile(m[1] ?? '') ?? '', /ERROR disk full/);
  });

  it('c8y_UploadConfigFile: the config file reaches the tenant as an event binary', async () => {
    const id = await dev.sim.createOperation({ c8y_UploadConfigFile: { type: 'app-conf' } }, DEVICE);
    const op = await finished(id);
    assert.equal(op.status, 'SUCCESSFUL', op.failureReason);
    const m = /\/event\/events\/(\d+)\/binaries$/.exec(op.result ?? '');
    assert.ok(m, op.result);
    assert.equal(dev.sim.http.eventFile(m[1] ?? ''), 'speed = 3\n');
  });

  it('c8y_DownloadConfigFile of a tenant binary: copied by the mapper into the file transfer service, applied by the agent, 120 then SUCCESSFUL', async () => {
    const bin = dev.sim.http.addBinary('speed = 9\n');
    const url = `${dev.sim.httpBaseUrl}/inventory/binaries/${bin}`;
    const op = await finished(await dev.sim.createOperation({ c8y_DownloadConfigFile: { type: 'app-conf', url } }, DEVICE));
    assert.equal(op.status, 'SUCCESSFUL', op.failureReason);
    assert.equal(readFileSync(join(dev.configDir, 'app.conf'), 'utf8'), 'speed = 9\n');
    assert.ok(dev.sim.messages('s/us').includes(`120,app-conf,${url}`));
    const cmd = dev.probe.texts(`te/device/main///cmd/config_update/c8y-mapper-${op.id}`).find((t) => t.length > 0);
    assert.match(cmd ?? '', /"tedgeUrl":"http:\/\/127\.0\.0\.1:\d+\/te\/v1\/files\//, 'the agent was given the copy');
    const missing = await finished(await dev.sim.createOperation({ c8y_DownloadConfigFile: { type: 'app-conf', url: `${dev.sim.httpBaseUrl}/inventory/binaries/999999` } }, DEVICE));
    assert.equal(missing.status, 'FAILED');
    assert.match(missing.failureReason ?? '', /Failed to download/);
    const big = dev.sim.http.addBinary(Buffer.alloc(200 * 1024, 'x'));
    const tooLarge = await finished(await dev.sim.createOperation({ c8y_DownloadConfigFile: { type: 'app-conf', url: `${dev.sim.httpBaseUrl}/inventory/binaries/${big}` } }, DEVICE));
    assert.equal(tooLarge.status, 'FAILED');
    assert.match(tooLarge.failureReason ?? '', /413|limit/);
    assert.equal(readFileSync(join(dev.configDir, 'app.conf'), 'utf8'), 'speed = 9\n', 'the configuration is untouched');
  });

  it('a bad operation ends FAILED with a reason the cloud sees', async () => {
    const unknown = await finished(await dev.sim.createOperation({ c8y_Nothing: {} }, DEVICE));
    assert.equal(unknown.status, 'FAILED');
    assert.match(unknown.failureReason ?? '', /no handler for its fragments \(c8y_Nothing\)/);
    const missing = await finished(await dev.sim.createOperation({ c8y_DownloadConfigFile: { type: 'app-conf' } }, DEVICE));
    assert.equal(missing.status, 'FAILED');
    assert.match(missing.failureReason ?? '', /url"* must be a string/);
  });

  it('a failed operation: its agent log is uploaded as event <op>_op_log (auto_log_upload=on-failure)', async () => {
    const op = await finished(await dev.sim.createOperation({ c8y_UploadConfigFile: { type: 'no-such-type' } }, DEVICE));
    assert.equal(op.status, 'FAILED');
    const deadline = Date.now() + 10_000;
    let eventId: string | undefined;
    while (eventId === undefined && Date.now() < deadline) {
      eventId = [...dev.sim.http.events].find(([, e]) => e.json['type'] === 'config_snapshot_op_log')?.[0];
      if (eventId === undefined || dev.sim.http.eventFile(eventId) === undefined) {
        eventId = undefined;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.ok(eventId, 'the operation log event with its binary');
    assert.match(dev.sim.http.eventFile(eventId) ?? '', /no-such-type/);
  });

  it('a child device: 101, its 117 and 114 (with its own directory) on its topic, then its operations both ways', async () => {
    await dev.sim.waitFor(() => dev.sim.messages('s/us').includes(`101,${CHILD},kid,thin-edge.io-child,false`), 'the child registration');
    const childTopic = `s/us/${CHILD}`;
    await dev.sim.waitFor(() => dev.sim.messages(childTopic).includes('117,60'), 'the child 117');
    await dev.sim.waitFor(() => dev.sim.messages(childTopic).some((p) => p.startsWith('114,') && ['c8y_ChildOnly', 'c8y_Restart', 'c8y_SoftwareUpdate'].every((n) => p.split(',').includes(n))), 'the child 114');
    const op = await finished(await dev.sim.createOperation({ c8y_SoftwareUpdate: [{ name: 'kidpkg', version: '1', softwareType: 'fake', action: 'install', url: '' }] }, CHILD));
    assert.equal(op.status, 'SUCCESSFUL', op.failureReason);
    await dev.sim.publish('s/ds', `526,${CHILD},app-conf`);
    await dev.sim.waitFor(() => dev.sim.messages(childTopic).some((p) => /^503,c8y_UploadConfigFile,.*\/event\/events\/\d+\/binaries$/.test(p)), 'the child config snapshot by name');
    assert.ok(dev.sim.messages(childTopic).includes('501,c8y_UploadConfigFile'));
  });

  it('SmartREST 528 on s/ds: the same software update, reported by name', async () => {
    await dev.sim.publish('s/ds', `528,${DEVICE},vim,9.0::fake,,install`);
    await dev.sim.waitFor(() => dev.sim.messages('s/us').includes('503,c8y_SoftwareUpdate'), '503,c8y_SoftwareUpdate');
    assert.ok(dev.sim.messages('s/us').includes('501,c8y_SoftwareUpdate'));
  });

  it('c8y_Restart: EXECUTING before the reboot, SUCCESSFUL after it', async () => {
    const first = agent;
    const id = await dev.sim.createOperation({ c8y_Restart: {} }, DEVICE);
    await dev.sim.waitFor(() => dev.sim.c8y.operations.get(id)?.status === 'EXECUTING', 'EXECUTING');
    await new Promise<void>((resolve) => (first.exited ? resolve() : first.process.once('exit', () => resolve())));
    mkdirSync(join(dev.configDir, 'run'), { recursive: true });
    startAgent();
    const op = await finished(id);
    assert.equal(op.status, 'SUCCESSFUL', op.failureReason);
  });
});
