/**
 * A process supervising two MQTT components, for the crash-isolation test: `node crash-fixture.js <port>`.
 * `agent` answers `test/agent/ping` on `test/agent/pong`; `mapper` throws (or rejects) from its message
 * handler on `test/crash`. Each announces every start on `test/<name>/started`.
 */
import { MqttBus } from '../../src/bus/mqtt-bus';
import { message, payloadText } from '../../src/core/message';
import { createLogger } from '../../src/log/logger';
import { runSupervised } from '../../src/runtime/run-supervised';
import { SystemdNotifier } from '../../src/runtime/sd-notify';
import { type Component, Supervisor } from '../../src/runtime/supervisor';
import { systemClock, systemTimers } from '../../src/runtime/system-clock';

const port = Number(process.argv[2]);

function component(name: string, kind: 'agent' | 'mapper'): Component {
  let starts = 0;
  return {
    name,
    kind,
    async start() {
      const bus = await MqttBus.connect({ host: '127.0.0.1', port, clientId: `crash-fixture-${name}`, cleanSession: true });
      bus.onMessage((msg) => {
        const text = payloadText(msg);
        if (msg.topic === 'test/agent/ping') void bus.publish(message('test/agent/pong', text));
        if (msg.topic === 'test/crash' && text === 'throw') throw new Error(`${name}: thrown from a message handler`);
        if (msg.topic === 'test/crash' && text === 'reject') void Promise.reject(new Error(`${name}: unhandled rejection`));
      });
      await bus.subscribe(kind === 'agent' ? ['test/agent/ping'] : ['test/crash']);
      await bus.publish(message(`test/${name}/started`, String(++starts)));
      return { stop: () => bus.close() };
    },
  };
}

// Only when run by the test with a port: `node --test dist/test/` also loads every file under test/.
if (require.main === module && Number.isInteger(port) && port > 0) {
  const logger = createLogger({ name: 'crash-fixture' });
  const supervisor = new Supervisor([component('agent', 'agent'), component('mapper', 'mapper')], {
    clock: systemClock,
    timers: systemTimers,
    logger,
    policy: { initialDelayMs: 50, maxDelayMs: 200 },
  });
  void runSupervised({ proc: process, supervisor, systemd: new SystemdNotifier({}, process.pid), timers: systemTimers, logger }).then((code) => process.exit(code));
}
