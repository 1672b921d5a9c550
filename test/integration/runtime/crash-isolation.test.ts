import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BusProbe } from '../../helpers/bus-probe';
import { Mosquitto } from '../../helpers/mosquitto';

/** Real sockets, real MQTT.js callbacks: errors escaping a component's handlers are traced back to it. */
describe('crash isolation in one process (real mosquitto, MQTT.js callbacks)', () => {
  let broker: Mosquitto;
  let probe: BusProbe;
  let child: ChildProcess;
  let output = '';

  before(async () => {
    broker = await Mosquitto.start();
    probe = await BusProbe.connect(broker.port, ['test/#']);
    child = spawn(process.execPath, [join(__dirname, '..', '..', 'helpers', 'crash-fixture.js'), String(broker.port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await probe.waitForText('test/agent/started', (t) => t === '1');
    await probe.waitForText('test/mapper/started', (t) => t === '1');
  });

  after(async () => {
    if (child.exitCode === null) {
      await new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      });
    }
    await probe.close();
    await broker.stop();
  });

  it('restarts the component whose message handler threw, and only it', async () => {
    await probe.publish('test/crash', 'throw');
    await probe.waitForText('test/mapper/started', (t) => t === '2');
    await probe.publish('test/agent/ping', 'still there?');
    await probe.waitForText('test/agent/pong', (t) => t === 'still there?');
    assert.deepEqual(probe.texts('test/agent/started'), ['1']);
    assert.match(output, /ERROR crash-fixture mapper: crashed: mapper: thrown from a message handler/);
  });

  it('does the same for an unhandled rejection', async () => {
    await probe.publish('test/crash', 'reject');
    await probe.waitForText('test/mapper/started', (t) => t === '3');
    assert.deepEqual(probe.texts('test/agent/started'), ['1']);
    assert.equal(child.exitCode, null);
  });

  it('exits 0 after SIGTERM', async () => {
    const code = await new Promise((resolve) => {
      child.once('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    assert.equal(code, 0, output);
  });
});
