import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AgentUnderTest, cmd, json } from '../../helpers/agent-under-test';
import type { Daemon } from '../../helpers/daemon';

/**
 * A software_update of the agent's own package (`tedge`) on the real tedge-agent process and a real
 * mosquitto: the script plugin's `install tedge` plays the package's postinst by sending SIGTERM to the
 * agent (its parent: sudo is off), as `systemctl restart tedge-agent` would. The test then starts the
 * agent again, "as the new version" through TEDGE_TS_VERSION_OVERRIDE (honoured by the tsc build only).
 */

const UPDATE = (id: string): string => cmd('software_update', id);

type Json = Record<string, unknown>;

/** Per-module installs only (no update-list), recorded in .calls; installing `tedge` restarts the agent. */
function aptLike(dir: string): string {
  return `#!/bin/sh
STATE="${dir}/apt.state"
echo "$*" >> "${dir}/apt.calls"
touch "$STATE"
case "$1" in
  list) cat "$STATE" ;;
  prepare|finalize) ;;
  install)
    grep -v "^$2	" "$STATE" > "$STATE.new"; mv "$STATE.new" "$STATE"
    printf '%s\\t%s\\n' "$2" "$4" >> "$STATE"
    # The postinst restarting the agent: it stops the agent (which kills this plugin) before returning.
    # Unless the test armed a package whose postinst leaves the agent running.
    if [ "$2" = tedge ] && [ ! -e "${dir}/postinst-no-restart" ]; then kill -TERM "$PPID"; sleep 10; fi
    # A power cut while the rest of the update runs after the restart: once, when the test arms it.
    if [ "$2" = collectd ] && rm "${dir}/power-cut" 2>/dev/null; then kill -KILL "$PPID"; sleep 10; fi ;;
  *) exit 1 ;;
esac
`;
}

describe('tedge-agent self-update (process, real mosquitto)', { timeout: 180_000 }, () => {
  let device: AgentUnderTest;

  const startAgent = (version: string): Promise<Daemon> => device.startAgent({ env: { TEDGE_TS_VERSION_OVERRIDE: version } });

  /** Sends the update to an agent at `before`, waits for the plugin to stop it, restarts it at `after`. */
  async function selfUpdate(id: string, modules: Json[], before: string, after: string, powerCut = false, exitCode?: number): Promise<Json> {
    const agent = await startAgent(before);
    const cloud = await device.probe([UPDATE(id)]);
    await cloud.publish(UPDATE(id), JSON.stringify({ status: 'init', updateList: [{ type: 'apt', modules }] }), { retain: true });
    const code = await agent.waitForExit(20_000);
    if (exitCode !== undefined) assert.equal(code, exitCode, agent.output);
    assert.equal(json(cloud.texts(UPDATE(id)).at(-1))['status'], 'executing', 'left executing by the restart');
    if (powerCut) {
      // The new version is up but killed (-9) while resuming: the next start must give the same answer.
      writeFileSync(device.path('power-cut'), '');
      await device.spawnAgent({ env: { TEDGE_TS_VERSION_OVERRIDE: after } }).waitForExit(20_000);
    }
    await startAgent(after);
    return device.awaitCommand(cloud, 'software_update', id, 20_000);
  }

  const calls = (): string[] => readFileSync(device.path('apt.calls'), 'utf8').trimEnd().split('\n');

  beforeEach(async () => {
    device = await AgentUnderTest.start('agent-self');
    device.executable(device.path('config', 'sm-plugins', 'apt'), aptLike(device.dir));
  });

  afterEach(async () => {
    await device.close();
  });

  it('the restarted agent at the requested version ends the update successful and runs the rest of it', async () => {
    const modules = [
      { name: 'collectd', version: '5.12', action: 'install' },
      { name: 'tedge', version: '1.1.0-1', action: 'install' },
      { name: 'mosquitto-clients', version: '2.0', action: 'install' },
    ];
    const done = await selfUpdate('s1', modules, '1.0.0', '1.1.0');
    assert.equal(done['status'], 'successful', JSON.stringify(done));
    // The agent's package once (installing it again would restart the agent again), the rest after the restart.
    const installs = calls().filter((c) => c.startsWith('install'));
    assert.deepEqual(installs, ['install collectd --module-version 5.12', 'install tedge --module-version 1.1.0-1', 'install collectd --module-version 5.12', 'install mosquitto-clients --module-version 2.0']);
    assert.match(readFileSync(device.path('logs', 'agent', 'workflow-software_update-s1.log'), 'utf8'), /version 1\.0\.0 before, 1\.1\.0 now: the new version is up/);
  });

  it('killed again while resuming, the new version still ends the update successful', async () => {
    const modules = [
      { name: 'tedge', action: 'install' },
      { name: 'collectd', action: 'install' },
    ];
    const done = await selfUpdate('s2', modules, '1.0.0', '1.1.0', true);
    assert.equal(done['status'], 'successful', JSON.stringify(done));
    assert.deepEqual(calls().filter((c) => c.startsWith('install')), ['install tedge', 'install collectd', 'install collectd']);
  });

  it('an agent restarted at the old version ends the update failed, naming both versions', async () => {
    const unversioned = await selfUpdate('f1', [{ name: 'tedge', action: 'install' }], '1.0.0', '1.0.0');
    assert.equal(unversioned['status'], 'failed');
    assert.match(String(unversioned['reason']), /Self-update of tedge: the agent restarted but still runs version 1\.0\.0, as before the update/);
    await device.stopAgents();

    const versioned = await selfUpdate('f2', [{ name: 'tedge', version: '1.1.0', action: 'install' }], '1.0.0', '1.0.5');
    assert.equal(versioned['status'], 'failed');
    assert.match(String(versioned['reason']), /version 1\.1\.0 was requested but the restarted agent runs 1\.0\.5 \(was 1\.0\.0 before the update\)/);
  });

  it('a package whose postinst does not restart the agent: the agent restarts itself (exit 75), then the new version ends it successful', async () => {
    writeFileSync(device.path('postinst-no-restart'), '');
    const modules = [
      { name: 'tedge', version: '1.1.0', action: 'install' },
      { name: 'collectd', action: 'install' },
    ];
    const done = await selfUpdate('n1', modules, '1.0.0', '1.1.0', false, 75);
    assert.equal(done['status'], 'successful', JSON.stringify(done));
    // The whole request ran before the restart, and nothing runs again after it.
    assert.deepEqual(calls().filter((c) => c.startsWith('install')), ['install tedge --module-version 1.1.0', 'install collectd']);
    assert.match(readFileSync(device.path('logs', 'agent', 'workflow-software_update-n1.log'), 'utf8'), /the package did not restart the agent: restarting it/);
    await device.stopAgents();

    // Restarted but still the old binary (the install did not take): failed, naming both versions.
    const stale = await selfUpdate('n2', [{ name: 'tedge', version: '1.2.0', action: 'install' }], '1.1.0', '1.1.0', false, 75);
    assert.equal(stale['status'], 'failed');
    assert.match(String(stale['reason']), /version 1\.2\.0 was requested but the restarted agent runs 1\.1\.0/);
  });
});
