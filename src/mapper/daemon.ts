import { type Cloud, type PreparedBridge, cloudPayloadLimit, prepareBuiltInBridge, withBuiltInBridge } from '../bridge/build';
import { MqttBus } from '../bus/mqtt-bus';
import type { Converter } from '../core/converter';
import { join } from 'node:path';
import { serviceTopicId, topicFor } from '../core/topics';
import { BrokerDropMonitor } from './broker-drops';
import { activateNativeHotPath } from '../native/activate';
import type { TedgeConfig } from '../config/tedge-config';
import type { Logger } from '../log/logger';
import { HealthReporter, healthLastWill } from '../runtime/health';
import { Lifecycle } from '../runtime/lifecycle';
import { watchBrokerConnection } from '../runtime/broker-connection-log';
import { localBrokerOptions } from '../runtime/local-broker';
import { systemClock, systemTimers } from '../runtime/system-clock';
import { MapperRuntime } from './runtime';

export interface MapperDaemonOptions {
  /** The service name, e.g. `tedge-mapper-az`: also its MQTT session and its health entity. */
  readonly service: string;
  /** The `component` of the runtime's log lines, e.g. `az-mapper`. */
  readonly component: string;
  readonly converter: Converter;
  /** The cloud whose built-in bridge runs in this process (when configured); none for collectd. */
  readonly cloud?: Cloud;
  /** Aborted by SIGTERM/SIGINT: ends a wait for the local broker. */
  readonly stop: AbortSignal;
}

/**
 * The wiring every `tedge-mapper <name>` shares: a persistent MQTT session named after the
 * service (clean_session=false, so the broker queues input while the mapper is down) whose input is
 * acknowledged only once its outputs are accepted, health `up` retained with a `down` last will, the
 * generic runtime around the mapper's converter, and the cloud's built-in bridge. The bridge (settings,
 * outbox) is checked before any session opens: a mapper that cannot run holds no connection.
 */
export async function buildMapperDaemon(config: TedgeConfig, logger: Logger, opts: MapperDaemonOptions): Promise<Lifecycle> {
  const bridge = opts.cloud === undefined ? undefined : prepareBuiltInBridge(config, logger, opts.cloud);
  try {
    return await connectMapper(config, logger, opts, bridge);
  } catch (err) {
    await bridge?.abandon();
    throw err;
  }
}

async function connectMapper(config: TedgeConfig, logger: Logger, opts: MapperDaemonOptions, bridge: PreparedBridge | undefined): Promise<Lifecycle> {
  const topicRoot = config.string('mqtt.topic_root');
  const healthOpts = {
    root: topicRoot,
    service: serviceTopicId('main', opts.service),
    device: config.string('mqtt.device_topic_id'),
    timestampFormat: config.string('service.timestamp_format') === 'rfc-3339' ? ('rfc-3339' as const) : ('unix' as const),
  };
  const broker = localBrokerOptions(config);
  const { host, port } = broker;
  const native = activateNativeHotPath();
  logger.info({ native: native.active, detail: native.detail }, native.active ? 'native hot path in use' : 'TypeScript hot path in use');
  const bus = await MqttBus.connect({ ...broker, clientId: opts.service, cleanSession: false, manualAck: true, will: healthLastWill(healthOpts, process.pid), signal: opts.stop });
  logger.info({ host, port, tls: broker.tls !== undefined }, 'connected to the local MQTT broker');
  watchBrokerConnection(bus, logger, `${host}:${port}`);
  const health = new HealthReporter(bus, systemClock, healthOpts, process.pid);
  const drops = new BrokerDropMonitor({
    bus,
    clock: systemClock,
    logger: logger.child({ component: opts.component }),
    statePath: join(config.string('data.path'), 'mapper', opts.service, 'broker-dropped.json'),
    metricsTopic: topicFor(healthOpts.service, { kind: 'metrics', name: 'broker' }, topicRoot),
    timestampFormat: healthOpts.timestampFormat,
  });
  const runtime = new MapperRuntime({
    name: opts.service,
    bus,
    clock: systemClock,
    timers: systemTimers,
    converter: opts.converter,
    health,
    logger: logger.child({ component: opts.component }),
    topicRoot,
    monitors: [drops],
    ...(opts.cloud !== undefined ? { cloudLimit: cloudPayloadLimit(config, opts.cloud) } : {}),
  });
  const closeBus = { name: 'bus', start: async () => {}, stop: () => bus.close() };
  const mapper = new Lifecycle([closeBus, runtime], logger);
  try {
    return await withBuiltInBridge(bridge, logger, mapper, opts.stop);
  } catch (err) {
    await bus.close();
    throw err;
  }
}
