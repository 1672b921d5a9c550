import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AgentInfo, agentVersion } from '../../../src/agent/agent-info';
import { EntityPersistence } from '../../../src/agent/entities/entity-persistence';
import { EntityService } from '../../../src/agent/entities/entity-service';
import { EntityStore } from '../../../src/agent/entities/entity-store';
import { agentServiceTopicId } from '../../../src/agent/main';
import { MemoryBroker } from '../../../src/bus/memory-bus';
import { fixedClock } from '../../../src/core/clock';
import { formatLine } from '../../../src/core/message';
import { silentLogger } from '../../../src/log/logger';
import { HealthReporter } from '../../../src/runtime/health';
import { Lifecycle } from '../../../src/runtime/lifecycle';

describe('the agent announcing itself', () => {
  it('derives its service topic id from the device topic id', () => {
    assert.equal(agentServiceTopicId('device/main//'), 'device/main/service/tedge-agent');
    assert.equal(agentServiceTopicId('device/child01//'), 'device/child01/service/tedge-agent');
    assert.throws(() => agentServiceTopicId('device/main/service/x'), /default scheme/);
    assert.throws(() => agentServiceTopicId('factory/hall/belt/1'), /default scheme/);
  });

  it('reads its version from package.json', () => {
    assert.match(agentVersion(), /^\d+\.\d+\.\d+/);
  });

  it('registers itself before reporting up, so its health is not "unknown entity" data even with auto-registration off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tedge-agent-info-'));
    try {
      const broker = new MemoryBroker();
      const bus = broker.connect();
      const store = new EntityStore();
      const service = 'device/main/service/tedge-agent';
      const health = new HealthReporter(bus, fixedClock(new Date('2024-05-01T10:00:00Z')), { root: 'te', service, device: 'device/main//', timestampFormat: 'unix' }, 4242);
      const entities = new EntityService({
        bus,
        store,
        persistence: new EntityPersistence(dir, silentLogger()),
        logger: silentLogger(),
        options: { topicRoot: 'te', autoRegister: false, cleanStart: false, serviceType: 'systemd', syncTopic: 'tedge-ts/sync' },
      });
      const info = new AgentInfo(bus, { topicRoot: 'te', device: 'device/main//', service, serviceType: 'systemd', version: '9.9.9', extraFilters: [] });
      bus.onMessage((m) => {
        if (!health.handle(m.topic)) entities.handle(m);
      });
      const lifecycle = new Lifecycle([entities, info, health], silentLogger());
      await lifecycle.start();

      // Unique lines: on MemoryBus, HealthReporter's connection handler fires at once, so `up` goes out twice.
      const out = [...new Set(broker.published.filter((m) => !m.topic.startsWith('tedge-ts/')).map((m) => formatLine(m)))];
      assert.deepEqual(out, [
        '[te/device/main/service/tedge-agent] {"@type":"service","@parent":"device/main//","name":"tedge-agent","type":"systemd"}',
        '[te/device/main/service/tedge-agent/twin/name] "tedge-agent"',
        '[te/device/main/service/tedge-agent/twin/type] "systemd"',
        '[te/device/main///twin/agent] {"name":"tedge-ts","url":"https://thin-edge.io","version":"9.9.9"}',
        '[te/device/main/service/tedge-agent/status/health] {"status":"up","pid":4242,"time":1714557600}',
      ]);
      assert.ok(store.isRegistered(service));
      assert.equal(entities.stats.errors, 0);
      await lifecycle.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
