import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AgentUnderTest } from '../../helpers/agent-under-test';
import type { BusProbe } from '../../helpers/bus-probe';
import { BIN_DIR, Daemon } from '../../helpers/daemon';

const MAPPER_HEALTH = 'te/device/main/service/tedge-mapper-local/status/health';
const FLOW = `name = "hello-flow"
version = "1.0.0"
input.mqtt.topics = ["hello/in"]

[[steps]]
script = "main.js"
config.call = "\${params.call}"
`;
const STEP = `export function onMessage(message, context) {
  return [{ topic: "hello/out", payload: JSON.stringify({ text: "hello to " + context.config.call + "!" }) }];
}
`;

/**
 * A flow installed as software: the real tedge-agent runs a software_update of type `flow` whose module
 * URL is a real tarball, through the flow sm-plugin (the tedge executable as tedge-flows-plugin), and the
 * running `tedge-mapper local` picks the new flow up without a restart; software_list lists it; a removal
 * stops it.
 */
describe('flow packages through software management (agent, flow sm-plugin, tedge-mapper local, real mosquitto)', { timeout: 90_000 }, () => {
  let device: AgentUnderTest;
  let mapper: Daemon;
  let server: Server;
  let probe: BusProbe;
  let url: string;

  before(async () => {
    device = await AgentUnderTest.start('flow-plugin');
    mkdirSync(device.path('config', 'mappers', 'local', 'flows'), { recursive: true });
    // sm-plugins/flow is a link to tedge-flows-plugin in the .deb; here the built tedge run as that component.
    device.executable(device.path('config', 'sm-plugins', 'flow'), `#!/bin/sh\nexec '${process.execPath}' '${join(BIN_DIR, 'tedge.js')}' run tedge-flows-plugin "$@"\n`);
    const src = device.path('package');
    mkdirSync(src);
    writeFileSync(join(src, 'flow.toml'), FLOW);
    writeFileSync(join(src, 'main.js'), STEP);
    writeFileSync(join(src, 'params.toml.template'), 'call = "Bob"\n');
    const tarball = execFileSync('tar', ['czf', '-', '-C', src, '.']);
    server = createServer((req, res) => (req.url === '/hello-flow_1.0.0.tar.gz' ? res.end(tarball) : res.writeHead(404).end()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hello-flow_1.0.0.tar.gz`;
    probe = await device.probe(['hello/out', MAPPER_HEALTH, 'te/device/main///cmd/+/+']);
    mapper = Daemon.start('tedge-mapper', ['local'], device.env);
    await probe.waitForText(MAPPER_HEALTH, (t) => t.includes('"up"'), 15_000);
    await device.startAgent();
  });

  after(async () => {
    await mapper?.stop();
    await new Promise((r) => server?.close(r));
    await device?.close();
  });

  it('installs local/hello-flow from its URL; the running mapper loads it; software_list gives its version', async () => {
    const done = await device.runCommand(probe, 'software_update', 'install-1', {
      status: 'init',
      updateList: [{ type: 'flow', modules: [{ name: 'local/hello-flow', version: '1.0.0', url, action: 'install' }] }],
    }, 30_000);
    assert.equal(done['status'], 'successful', JSON.stringify(done));
    assert.equal(readFileSync(device.path('config', 'mappers', 'local', 'flows', 'hello-flow', 'main.js'), 'utf8'), STEP);

    await mapper.waitForOutput(/flow loaded/, 15_000);
    await probe.publish('hello/in', '');
    assert.deepEqual(JSON.parse(await probe.waitForText('hello/out')), { text: 'hello to Bob!' });

    const list = await device.runCommand(probe, 'software_list', 'list-1', { status: 'init' });
    const flows = (list['currentSoftwareList'] as { type: string; modules: unknown[] }[]).find((t) => t.type === 'flow');
    assert.deepEqual(flows?.modules, [{ name: 'local/hello-flow', version: '1.0.0' }]);
  });

  it('removes it: the directory is gone and the mapper stops the flow', async () => {
    const done = await device.runCommand(probe, 'software_update', 'remove-1', {
      status: 'init',
      updateList: [{ type: 'flow', modules: [{ name: 'local/hello-flow', action: 'remove' }] }],
    }, 30_000);
    assert.equal(done['status'], 'successful', JSON.stringify(done));
    assert.equal(existsSync(device.path('config', 'mappers', 'local', 'flows', 'hello-flow')), false);
    await mapper.waitForOutput(/flow removed/, 15_000);
  });
});
