import { join } from 'node:path';
import { MqttBus } from '../bus/mqtt-bus';
import { durationMs } from '../config/value-types';
import type { TedgeConfig } from '../config/tedge-config';
import { serviceTopicId } from '../core/topics';
import type { Logger } from '../log/logger';
import { HealthReporter, healthLastWill } from '../runtime/health';
import { Lifecycle } from '../runtime/lifecycle';
import { systemClock } from '../runtime/system-clock';
import { FlowEngine, type FlowEngineDeps } from './flow-engine';
import type { IsolationLimits } from './flow-worker-host';
import { FlowsService } from './flows-service';

/** `<config-dir>/mappers/<mapper>/flows`: where a mapper's flows live (thin-edge 2.x layout). */
export function flowsDirOf(config: TedgeConfig, mapper: string): string {
  return join(config.configDir, 'mappers', mapper, 'flows');
}

/** The per-flow limits of the config (flows.memory.*, flows.step_timeout). */
export function isolationLimits(config: TedgeConfig): IsolationLimits {
  return {
    callTimeoutMs: durationMs(config.string('flows.step_timeout')),
    heapMb: Math.max(8, Math.ceil(config.number('flows.memory.heap_size') / 1048576)),
    stackMb: Math.max(0.25, config.number('flows.memory.stack_size') / 1048576),
  };
}

/** The engine of a mapper's flows, as the running mapper and `tedge flows test` both build it. */
export function buildFlowEngine(config: TedgeConfig, logger: Logger, mapper: string, publish: FlowEngineDeps['publish']): FlowEngine {
  return new FlowEngine({
    flowsDir: flowsDirOf(config, mapper),
    topicRoot: config.string('mqtt.topic_root'),
    service: `tedge-mapper-${mapper}`,
    mapperParams: {},
    limits: isolationLimits(config),
    logger,
    clock: systemClock,
    publish,
  });
}

/**
 * Composition root of `tedge-mapper local`: thin-edge 2.x's mapper without a cloud, running the flows
 * of `<config-dir>/mappers/local/flows` on the local bus. Health `up` retained with a `down` last will.
 */
export async function buildLocalMapper(config: TedgeConfig, logger: Logger, stop: AbortSignal): Promise<Lifecycle> {
  const service = 'tedge-mapper-local';
  const topicRoot = config.string('mqtt.topic_root');
  const healthOpts = {
    root: topicRoot,
    service: serviceTopicId('main', service),
    device: config.string('mqtt.device_topic_id'),
    timestampFormat: config.string('service.timestamp_format') === 'rfc-3339' ? ('rfc-3339' as const) : ('unix' as const),
  };
  const bus = await MqttBus.connect({
    host: config.string('mqtt.client.host'),
    port: config.number('mqtt.client.port'),
    clientId: service,
    // A flow keeps no input for later (thin-edge's flows neither): what arrives while it is down is not queued.
    cleanSession: true,
    will: healthLastWill(healthOpts, process.pid),
    signal: stop,
  });
  const log = logger.child({ component: 'flows' });
  const publish = (m: Parameters<FlowEngineDeps['publish']>[0]): void => {
    void bus.publish(m).catch((err: unknown) => log.error({ err, topic: m.topic }, 'publish failed'));
  };
  const engine = buildFlowEngine(config, log, 'local', publish);
  const health = new HealthReporter(bus, systemClock, healthOpts, process.pid);
  const flows = new FlowsService({
    bus,
    engine,
    flowsDir: flowsDirOf(config, 'local'),
    logger: log,
    statsIntervalMs: durationMs(config.string('flows.stats.interval')),
    health: { filters: health.checkFilters(), handle: (topic) => health.handle(topic) },
  });
  const healthService = { name: 'health', start: () => health.start(), stop: () => health.stop() };
  const closeBus = { name: 'bus', start: async () => {}, stop: () => bus.close() };
  return new Lifecycle([closeBus, flows, healthService], logger);
}
