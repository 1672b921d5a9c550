import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TedgeError } from '../core/errors';
import { MqttBus } from '../bus/mqtt-bus';
import { type PreparedBridge, withBuiltInBridge } from '../bridge/build';
import { bridgeTopics } from '../bridge/status';
import { prepareUserMapperBridge } from '../bridge/user-bridge';
import { durationMs } from '../config/value-types';
import { flowStatsSettings } from './flow-stats';
import type { TedgeConfig } from '../config/tedge-config';
import { serviceTopicId } from '../core/topics';
import type { Logger } from '../log/logger';
import { HealthReporter, healthLastWill } from '../runtime/health';
import { Lifecycle } from '../runtime/lifecycle';
import { systemClock } from '../runtime/system-clock';
import { FlowEngine, type FlowEngineDeps } from './flow-engine';
import type { IsolationLimits } from './flow-worker-host';
import { FlowsService } from './flows-service';
import { readMapperToml } from './user-mapper-config';

/** `<config-dir>/mappers/<mapper>/flows`: where a mapper's flows live (thin-edge 2.x layout). */
export function flowsDirOf(config: TedgeConfig, mapper: string): string {
  return join(config.configDir, 'mappers', mapper, 'flows');
}

/** The per-flow limits of the config (flows.memory.*, flows.step_timeout). */
export function isolationLimits(config: TedgeConfig): IsolationLimits {
  return {
    callTimeoutMs: durationMs(config.string('flows.step_timeout')),
    heapMb: Math.max(8, Math.ceil(config.number('flows.memory.heap_size') / 1048576)),
    // thin-edge's 256 KiB is QuickJS's stack; a Node worker needs about 1 MiB just to load its own modules.
    stackMb: Math.max(1, config.number('flows.memory.stack_size') / 1048576),
  };
}

/** A user-defined mapper's name (thin-edge): `[a-z][a-z0-9-]*`, not `bridge-*` (reserved). */
export function isUserMapperName(name: string): boolean {
  return /^[a-z][a-z0-9-]*$/.test(name) && !name.startsWith('bridge-');
}

/**
 * `<config-dir>/mappers/<mapper>/mapper.toml` as the values of `${mapper.*}`; relative paths of the
 * documented path keys resolved against the mapper directory. Empty when there is no such file.
 */
export function mapperParamsOf(config: TedgeConfig, mapper: string): Record<string, unknown> {
  return readMapperToml(join(config.configDir, 'mappers', mapper))?.params ?? {};
}

/** The engine of a mapper's flows, as the running mapper and `tedge flows test` both build it. */
export function buildFlowEngine(config: TedgeConfig, logger: Logger, mapper: string, publish: FlowEngineDeps['publish']): FlowEngine {
  return new FlowEngine({
    flowsDir: flowsDirOf(config, mapper),
    topicRoot: config.string('mqtt.topic_root'),
    service: `tedge-mapper-${mapper}`,
    mapperParams: mapperParamsOf(config, mapper),
    limits: isolationLimits(config),
    logger,
    clock: systemClock,
    publish,
    stepStats: flowStatsSettings(config, `tedge-mapper-${mapper}`).steps,
  });
}

/**
 * Composition root of `tedge-mapper local` and of user-defined mappers (`tedge-mapper <name>`): the flows
 * of `<config-dir>/mappers/<name>/flows` on the local bus, `${mapper.*}` from its mapper.toml. Health `up`
 * retained with a `down` last will. A user mapper with a `bridge/` also runs its cloud connection (the
 * built-in bridge, `tedge-mapper-bridge-<name>`), started before the flows and stopped after them, as the
 * built-in mappers' bridges.
 */
export async function buildLocalMapper(config: TedgeConfig, logger: Logger, stop: AbortSignal, name = 'local'): Promise<Lifecycle> {
  const service = `tedge-mapper-${name}`;
  const mapperDir = join(config.configDir, 'mappers', name);
  if (name !== 'local' && !existsSync(join(mapperDir, 'mapper.toml')) && !existsSync(join(mapperDir, 'flows'))) {
    throw new TedgeError('CONFIG_FILE', `no mapper '${name}': ${mapperDir} has neither mapper.toml nor flows/`);
  }
  const params = mapperParamsOf(config, name);
  // Checked before any session opens: a mapper whose bridge cannot run holds no connection.
  const bridge = name === 'local' ? undefined : prepareUserMapperBridge(config, logger, name);
  if (bridge === undefined && typeof params['url'] === 'string') logger.info(`${mapperDir} has no bridge/: no cloud connection, the flows only`);
  const topicRoot = config.string('mqtt.topic_root');
  const healthOpts = {
    root: topicRoot,
    service: serviceTopicId('main', service),
    device: config.string('mqtt.device_topic_id'),
    timestampFormat: config.string('service.timestamp_format') === 'rfc-3339' ? ('rfc-3339' as const) : ('unix' as const),
  };
  const bus = await connectOrAbandon(bridge, () => MqttBus.connect({
    host: config.string('mqtt.client.host'),
    port: config.number('mqtt.client.port'),
    clientId: service,
    // A flow keeps no input for later (thin-edge's flows neither): what arrives while it is down is not queued.
    cleanSession: true,
    will: healthLastWill(healthOpts, process.pid),
    signal: stop,
  }));
  const log = logger.child({ component: 'flows' });
  const publish = (m: Parameters<FlowEngineDeps['publish']>[0]): void => {
    void bus.publish(m).catch((err: unknown) => log.error({ err, topic: m.topic }, 'publish failed'));
  };
  const engine = buildFlowEngine(config, log, name, publish);
  if (bridge === undefined && name !== 'local') {
    // As thin-edge: a mapper that runs without its bridge (bridge/ removed) clears the retained health its bridge left.
    const deviceTopic = config.string('mqtt.device_topic_id').split('/')[1] ?? 'main';
    publish({ topic: bridgeTopics(topicRoot, deviceTopic, `tedge-mapper-bridge-${name}`).health, payload: new Uint8Array(0), qos: 1, retain: true });
  }
  const health = new HealthReporter(bus, systemClock, healthOpts, process.pid);
  const flows = new FlowsService({
    bus,
    engine,
    flowsDir: flowsDirOf(config, name),
    logger: log,
    statsIntervalMs: durationMs(config.string('flows.stats.interval')),
    health: { filters: health.checkFilters(), handle: (topic) => health.handle(topic) },
  });
  const healthService = { name: 'health', start: () => health.start(), stop: () => health.stop() };
  const closeBus = { name: 'bus', start: async () => {}, stop: () => bus.close() };
  return withBuiltInBridge(bridge, logger, new Lifecycle([closeBus, flows, healthService], logger), stop);
}

async function connectOrAbandon<T>(bridge: PreparedBridge | undefined, connect: () => Promise<T>): Promise<T> {
  try {
    return await connect();
  } catch (err) {
    await bridge?.abandon();
    throw err;
  }
}
