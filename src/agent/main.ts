import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import type { Bus } from '../bus/bus';
import { MqttBus } from '../bus/mqtt-bus';
import { topicMatches } from '../bus/topic-filter';
import { TedgeError, errorMessage } from '../core/errors';
import { message } from '../core/message';
import { type EntityTopicId, MAIN_DEVICE, defaultSchemeParts, errorsTopic, serviceTopicId, topicFor } from '../core/topics';
import { envName } from '../config/keys';
import { TedgeConfig, requireKey, resolveConfigDir } from '../config/tedge-config';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel, type Logger } from '../log/logger';
import { daemonLogging, reloadOnHangup } from '../log/daemon-logging';
import { watchBrokerConnection } from '../runtime/broker-connection-log';
import { localBrokerOptions } from '../runtime/local-broker';
import { HealthReporter, healthLastWill } from '../runtime/health';
import { Lifecycle, terminationSignal } from '../runtime/lifecycle';
import { EXIT_RESTART_REQUIRED } from '../runtime/supervisor';
import type { Service } from '../runtime/service';
import { systemClock } from '../runtime/system-clock';
import { AgentInfo, agentVersion } from './agent-info';
import { EntityPersistence } from './entities/entity-persistence';
import { EntityService } from './entities/entity-service';
import { EntityStore } from './entities/entity-store';
import { buildAgentHttpService } from './http/build';
import { InventoryPublisher } from './inventory';
import { builtinHandlers } from './operations/builtin-handlers';
import { CommandLogs } from './operations/command-log';
import { CommandStore } from './operations/command-store';
import { CommandExecutor, type HandlerEnvironment } from './operations/executor';
import type { HandlerConfig } from './operations/operation';
import { clientTls } from './transfer/client-tls';
import { downloadFile } from './transfer/download';
import { uploadFile } from './transfer/upload';
import { WorkflowEngine } from './workflows/engine';
import { WorkflowService } from './workflows/workflow-service';
import { SHIPPED_WORKFLOWS } from './workflows/builtin/device-profile';
import { activateNativeHotPath } from '../native/activate';

const DESCRIPTION = [
  'thin-edge.io agent: manages the device given by mqtt.device_topic_id (default device/main//).',
  '',
  'Operations: runs the commands published on te/<device>/cmd/<operation>/<id> (restart, software_list, software_update, config_snapshot, config_update, log_upload, and firmware_update when firmware.backend names a firmware backend: A/B install, trial reboot, health-gated commit or rollback), keeping every field of the request. Each state is persisted under <agent.state.path>/workflows before it is published; a command in flight when the agent stops is resumed at the next start (restart: successful once the device has rebooted) or ended "failed" with a reason. One log per command: <logs.path>/agent/workflow-<operation>-<id>.log (logs.max_per_operation kept per operation). restart runs sync and the [system] reboot command of <config-dir>/system.toml.',
  '',
  'At start: health on te/device/<name>/service/tedge-agent/status/health (down as last will; answers cmd/health/check), a retained capability per operation on te/<device>/cmd/<operation>, te/<device>/twin/agent, and the keys of <config-dir>/device/inventory.json as te/<device>/twin/<key>.',
  '',
  'On the main device it also owns the entity store (registrations, auto-registration, twin data) and serves HTTP on http.bind.address:http.bind.port (127.0.0.1:8000): file transfer /te/v1/files/<path> under <data.path>/file-transfer (at most http.file_transfer.max_bytes), the entity API /te/v1/entities[/<topic-id>[/twin[/<key>]]]; HTTPS with http.cert_path and http.key_path, client certificates with http.ca_path. A child agent (--mqtt-device-topic-id device/<child>//) serves the commands of its own device only and uses the main device\'s HTTP service (http.client.host, http.client.port).',
].join('\n');

interface AgentFlags {
  readonly configDir?: string;
  readonly mqttDeviceTopicId?: string;
  readonly mqttTopicRoot?: string;
  readonly logLevel?: LogLevel;
  readonly debug?: boolean;
  readonly logFormat?: LogFormat;
}

/** Parses the flags; throws CommanderError for --help, --version and usage errors (commander prints them). */
function parseFlags(argv: readonly string[]): AgentFlags {
  const program = new Command('tedge-agent')
    .description(DESCRIPTION)
    .version(agentVersion())
    .option('--config-dir <dir>', 'directory of tedge.ini (default: $TEDGE_CONFIG_DIR or /etc/tedge)')
    .option('--mqtt-device-topic-id <id>', 'entity topic id of the device this agent manages (mqtt.device_topic_id)')
    .option('--mqtt-topic-root <root>', 'root of the te/ topics (mqtt.topic_root)')
    .addOption(new Option('--log-level <level>', 'log level (default: [log] tedge-agent of <config-dir>/system.toml, else info; SIGHUP reads it again)').choices(LOG_LEVELS))
    .option('--debug', 'same as --log-level debug')
    .addOption(new Option('--log-format <format>', 'text (readable lines) or json (default: logs.format)').choices(LOG_FORMATS))
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
    // --help and --version: 0; a usage error: 2, as every thin-edge command line (commander says 1).
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  const logging = daemonLogging('tedge-agent', flags, resolveConfigDir(flags.configDir, env), env);
  const logger = logging.logger;
  const stopReloading = reloadOnHangup(process, logging);
  try {
    return await run(flags, env, logger);
  } catch (err) {
    // A TedgeError is a known condition (bad config, unusable state dir): one clear line, no stack.
    if (err instanceof TedgeError) logger.error({ code: err.code }, err.message);
    else logger.error({ err }, `unexpected failure: ${errorMessage(err)}`);
    return 1;
  } finally {
    stopReloading();
  }
}

async function run(flags: AgentFlags, env: NodeJS.ProcessEnv, logger: Logger): Promise<number> {
  // Flags beat TEDGE_* variables, which beat the file: passing them as variables reuses the config validation.
  const overrides: Record<string, string | undefined> = { ...env };
  if (flags.mqttDeviceTopicId !== undefined) overrides[envName('mqtt.device_topic_id')] = flags.mqttDeviceTopicId;
  if (flags.mqttTopicRoot !== undefined) overrides[envName('mqtt.topic_root')] = flags.mqttTopicRoot;
  const config = TedgeConfig.load(resolveConfigDir(flags.configDir, env), overrides);
  for (const warning of config.warnings) logger.warn(warning);

  const root = config.string('mqtt.topic_root');
  const device = config.string('mqtt.device_topic_id');
  const service = agentServiceTopicId(device);
  const timestampFormat = config.string('service.timestamp_format');
  if (timestampFormat !== 'unix' && timestampFormat !== 'rfc-3339') {
    throw new TedgeError('CONFIG_INVALID_VALUE', `service.timestamp_format must be unix or rfc-3339, not '${timestampFormat}'`);
  }
  const isMain = device === MAIN_DEVICE;
  const broker = localBrokerOptions(config);
  const { host, port } = broker;
  const pid = process.pid;

  const native = activateNativeHotPath();
  logger.info({ native: native.active, detail: native.detail }, native.active ? 'native hot path in use' : 'TypeScript hot path in use');
  logger.info({ host, port, device, configDir: config.configDir }, 'connecting to the MQTT broker');
  // No connect timeout: a daemon waits for its broker, however long it takes to come up.
  // Manual acks: a command is acknowledged to the broker only once its state is on disk.
  // Listened to before connecting: a stop while waiting for the broker ends the wait (exit 0).
  const stop = terminationSignal(process);
  let bus: MqttBus;
  try {
    bus = await MqttBus.connect({
      ...broker,
      clientId: isMain ? 'tedge-agent' : `tedge-agent#${device}`,
      cleanSession: false,
      will: healthLastWill({ root, service }, pid),
      manualAck: true,
      signal: stop,
    });
  } catch (err) {
    if (!stop.aborted) throw err;
    logger.info('stopped before the broker was reached');
    return 0;
  }
  logger.info({ host, port, tls: broker.tls !== undefined }, 'connected to the local MQTT broker');
  watchBrokerConnection(bus, logger, `${host}:${port}`);
  try {
    return await runConnected({ bus, stop, config, logger, root, device, service, timestampFormat, isMain, pid });
  } catch (err) {
    // Whatever refused to start, the session goes with it: no half-started agent holds the broker.
    await bus.close();
    throw err;
  }
}

async function runConnected(ctx: {
  readonly bus: MqttBus;
  readonly stop: AbortSignal;
  readonly config: TedgeConfig;
  readonly logger: Logger;
  readonly root: string;
  readonly device: EntityTopicId;
  readonly service: EntityTopicId;
  readonly timestampFormat: 'unix' | 'rfc-3339';
  readonly isMain: boolean;
  readonly pid: number;
}): Promise<number> {
  const { bus, config, logger, root, device, service, timestampFormat, isMain, pid } = ctx;

  const clock = systemClock;
  /** A broken file or plugin: one line on te/errors and in the log; the agent goes on. */
  const reportError = (text: string): void => {
    logger.error(text);
    bus.publish(message(errorsTopic(root), text, { qos: 1 })).catch(() => {});
  };
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

  // The entity store's `te/+/+/+/+/#` already brings the commands of the main device; a child agent
  // subscribes to its own, and then needs a separate health-check subscription only for its service.
  const commandFilter = topicFor(device, { kind: 'command', operation: '+', cmdId: '+' }, root);
  // A workflow's restart-agent (or a self-update the package did not restart): stop, exit asking to be started again.
  const restart = new AbortController();
  const restartAgent = (reason: string): void => {
    if (restart.signal.aborted) return;
    logger.info({ reason }, 'restarting the agent');
    restart.abort();
  };
  const { executor, workflows } = operationsExecutor({ bus, config, device, root, logger, reportError, restartAgent, filters: entities ? [] : [commandFilter] });
  const info = new AgentInfo(bus, {
    topicRoot: root,
    device,
    service,
    serviceType: config.string('service.type'),
    version: agentVersion(),
    extraFilters: entities ? [] : health.checkFilters().filter((f) => !topicMatches(commandFilter, f)),
  });
  const inventory = new InventoryPublisher(bus, { configDir: config.configDir, device, topicRoot: root }, reportError);

  bus.onMessageWithAck((msg, ack) => {
    if (health.handle(msg.topic)) return ack();
    entities?.handle(msg);
    // Acknowledges once the command state is persisted, or at once for anything else.
    executor.handle(msg, ack);
  });

  // Started in this order, stopped in reverse:
  // - the executor first: until it has restored the persisted commands it holds back the PUBACKs of
  //   command messages, and mosquitto sends only so many unacknowledged QoS 1 messages, which would
  //   starve the entity store's start (it waits for its own sync message);
  // - the entity store listens before the agent announces itself and reports `up`.
  // - the workflow files before the executor: its persisted commands resume with their workflow.
  const services: Service[] = [
    workflows,
    executor,
    // HTTP (file transfer, entity API) only on the main device: child agents use its service.
    ...(entities ? [entities, buildAgentHttpService(config, entities, logger)] : []),
    info,
    inventory,
    health,
  ];
  const lifecycle = new Lifecycle(services, logger);
  try {
    await lifecycle.run(AbortSignal.any([ctx.stop, restart.signal]), process);
  } catch (err) {
    await lifecycle.stop();
    throw err;
  }
  await bus.close();
  logger.info('stopped');
  return restart.signal.aborted && !ctx.stop.aborted ? EXIT_RESTART_REQUIRED : 0;
}

/** The config as handlers read it: by key name, and per cloud profile. */
function handlerConfig(config: TedgeConfig): HandlerConfig {
  return {
    string: (key) => config.string(requireKey(key)),
    text: (key) => config.text(requireKey(key)),
    number: (key) => config.number(requireKey(key)),
    boolean: (key) => config.boolean(requireKey(key)),
    list: (key) => config.list(requireKey(key)),
    profiles: (cloud) => config.profiles(cloud),
    forCloud: (cloud, profile) => handlerConfig(config.forCloud(cloud, profile)),
  };
}

/**
 * The command framework with the built-in operations and the workflows of <config-dir>/operations (which
 * may replace them), its state under agent.state.path and logs under logs.path.
 */
function operationsExecutor(deps: {
  readonly bus: Bus;
  readonly config: TedgeConfig;
  readonly device: EntityTopicId;
  readonly root: string;
  readonly logger: Logger;
  readonly reportError: (text: string) => void;
  readonly restartAgent: (reason: string) => void;
  readonly filters: readonly string[];
}): { executor: CommandExecutor; workflows: WorkflowService } {
  const { bus, config, device, root, logger, reportError, restartAgent, filters } = deps;
  const environment: HandlerEnvironment = {
    device,
    configDir: config.configDir,
    config: handlerConfig(config),
    reportError,
    restartAgent,
  };
  const log = logger.child({ component: 'operations' });
  const builtins = builtinHandlers({ logger: log });
  const engine = new WorkflowEngine({
    builtins: new Map(builtins.map((b) => [b.operation, b])),
    download: (url, dest, opts) => downloadFile(url, dest, opts),
    upload: (url, path, opts) => {
      const tls = clientTls(config);
      return uploadFile(url, path, { ...opts, ...(tls ? { tls } : {}) });
    },
    topicRoot: root,
  });
  const workflows = new WorkflowService({
    dir: join(config.configDir, 'operations'),
    builtins,
    engine,
    reportError,
    logger: logger.child({ component: 'workflows' }),
    shipped: SHIPPED_WORKFLOWS,
  });
  const executor = new CommandExecutor({
    bus,
    handlers: workflows.handlers,
    environment,
    store: new CommandStore(join(config.string('agent.state.path'), 'workflows')),
    logs: new CommandLogs(join(config.string('logs.path'), 'agent'), config.number('logs.max_per_operation'), systemClock, (err) => log.warn({ err }, 'cannot write a command log')),
    logger: log,
    options: { topicRoot: root, device, filters, stopDeadlineMs: 2000 },
  });
  workflows.serveWith(executor);
  return { executor, workflows };
}
