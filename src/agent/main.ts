import { Command, CommanderError, Option } from 'commander';
import { MqttBus } from '../bus/mqtt-bus';
import { TedgeError, errorMessage } from '../core/errors';
import { type EntityTopicId, MAIN_DEVICE, defaultSchemeParts, serviceTopicId } from '../core/topics';
import { envName } from '../config/keys';
import { TedgeConfig, resolveConfigDir } from '../config/tedge-config';
import { type LogLevel, type Logger, createLogger } from '../log/logger';
import { HealthReporter, healthLastWill } from '../runtime/health';
import { Lifecycle } from '../runtime/lifecycle';
import type { Service } from '../runtime/service';
import { systemClock } from '../runtime/system-clock';
import { AgentInfo, agentVersion } from './agent-info';
import { EntityPersistence } from './entities/entity-persistence';
import { EntityService } from './entities/entity-service';
import { EntityStore } from './entities/entity-store';
import { activateNativeHotPath } from '../native/activate';

const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug', 'trace'];

interface AgentFlags {
  readonly configDir?: string;
  readonly mqttDeviceTopicId?: string;
  readonly mqttTopicRoot?: string;
  readonly logLevel: LogLevel;
}

/** Parses the flags; throws CommanderError for --help, --version and usage errors (commander prints them). */
function parseFlags(argv: readonly string[]): AgentFlags {
  const program = new Command('tedge-agent')
    .description('thin-edge.io agent: entity store, health and (later) device management operations')
    .version(agentVersion())
    .option('--config-dir <dir>', 'directory of tedge.ini (default: $TEDGE_CONFIG_DIR or /etc/tedge)')
    .option('--mqtt-device-topic-id <id>', 'entity topic id of the device this agent manages (mqtt.device_topic_id)')
    .option('--mqtt-topic-root <root>', 'root of the te/ topics (mqtt.topic_root)')
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    .exitOverride()
    .parse([...argv], { from: 'user' });
  return program.opts<AgentFlags>();
}

/** The agent's own service entity on its device: `device/<d>/service/tedge-agent`. */
export function agentServiceTopicId(device: EntityTopicId): EntityTopicId {
  const parts = defaultSchemeParts(device);
  if (parts === undefined || parts.service !== undefined) {
    throw new TedgeError('CONFIG_INVALID_VALUE', `mqtt.device_topic_id must be a device in the default scheme, such as device/main// or device/child01//, not '${device}'`);
  }
  return serviceTopicId(parts.device, 'tedge-agent');
}

/**
 * The tedge-agent composition root: config, logger, bus, services. Returns the exit code;
 * resolves after SIGTERM/SIGINT once every service has stopped.
 */
export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let flags: AgentFlags;
  try {
    flags = parseFlags(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  const logger = createLogger({ name: 'tedge-agent', level: flags.logLevel });
  try {
    return await run(flags, env, logger);
  } catch (err) {
    // A TedgeError is a known condition (bad config, unusable state dir): one clear line, no stack.
    if (err instanceof TedgeError) logger.error({ code: err.code }, err.message);
    else logger.error({ err }, `unexpected failure: ${errorMessage(err)}`);
    return 1;
  }
}

async function run(flags: AgentFlags, env: NodeJS.ProcessEnv, logger: Logger): Promise<number> {
  // Flags beat TEDGE_* variables, which beat the file: passing them as variables reuses the config validation.
  const overrides: Record<string, string | undefined> = { ...env };
  if (flags.mqttDeviceTopicId !== undefined) overrides[envName('mqtt.device_topic_id')] = flags.mqttDeviceTopicId;
  if (flags.mqttTopicRoot !== undefined) overrides[envName('mqtt.topic_root')] = flags.mqttTopicRoot;
  const config = TedgeConfig.load(resolveConfigDir(flags.configDir, env), overrides);

  const root = config.string('mqtt.topic_root');
  const device = config.string('mqtt.device_topic_id');
  const service = agentServiceTopicId(device);
  const timestampFormat = config.string('service.timestamp_format');
  if (timestampFormat !== 'unix' && timestampFormat !== 'rfc-3339') {
    throw new TedgeError('CONFIG_INVALID_VALUE', `service.timestamp_format must be unix or rfc-3339, not '${timestampFormat}'`);
  }
  const isMain = device === MAIN_DEVICE;
  const host = config.string('mqtt.client.host');
  const port = config.number('mqtt.client.port');
  const pid = process.pid;

  const native = activateNativeHotPath();
  logger.info({ native: native.active, detail: native.detail }, native.active ? 'native hot path in use' : 'TypeScript hot path in use');
  logger.info({ host, port, device, configDir: config.configDir }, 'connecting to the MQTT broker');
  // No connect timeout: a daemon waits for its broker, however long it takes to come up.
  const bus = await MqttBus.connect({
    host,
    port,
    clientId: isMain ? 'tedge-agent' : `tedge-agent#${device}`,
    cleanSession: false,
    will: healthLastWill({ root, service }, pid),
  });

  const clock = systemClock;
  const health = new HealthReporter(bus, clock, { root, service, device, timestampFormat }, pid);
  // Only the agent of the main device owns the entity store (as in thin-edge); child agents report to it.
  const entities = isMain
    ? new EntityService({
        bus,
        store: new EntityStore(),
        persistence: new EntityPersistence(config.string('agent.state.path'), logger.child({ component: 'entity-persistence' })),
        logger: logger.child({ component: 'entity-store' }),
        options: {
          topicRoot: root,
          autoRegister: config.boolean('agent.entity_store.auto_register'),
          cleanStart: config.boolean('agent.entity_store.clean_start'),
          serviceType: config.string('service.type'),
          syncTopic: `tedge-ts/agent-sync/${device}`,
        },
      })
    : undefined;
  const info = new AgentInfo(bus, {
    topicRoot: root,
    device,
    service,
    serviceType: config.string('service.type'),
    version: agentVersion(),
    extraFilters: entities ? [] : health.checkFilters(),
  });
  bus.onMessage((msg) => {
    if (health.handle(msg.topic)) return;
    entities?.handle(msg);
  });

  // Order matters: the entity store listens before the agent announces itself and reports `up`.
  const services: Service[] = [...(entities ? [entities] : []), info, health];
  const lifecycle = new Lifecycle(services, logger);
  try {
    await lifecycle.runUntilSignal(process);
  } catch (err) {
    await lifecycle.stop();
    await bus.close();
    throw err;
  }
  await bus.close();
  logger.info('stopped');
  return 0;
}
