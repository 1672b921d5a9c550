import { join } from 'node:path';
import { MqttBus } from '../bus/mqtt-bus';
import { localBrokerOptions } from '../runtime/local-broker';
import { openTunnel, outgoingProxy } from '../runtime/outgoing-proxy';
import { classifyTlsError } from '../certs/tls-errors';
import type { Clock, Timers } from '../core/clock';
import { TedgeError, errorMessage } from '../core/errors';
import type { CloudPayloadLimit } from '../core/payload-limit';
import type { TedgeConfig } from '../config/tedge-config';
import { durationMs } from '../config/value-types';
import type { Logger } from '../log/logger';
import { Lifecycle } from '../runtime/lifecycle';
import type { Service } from '../runtime/service';
import { systemClock, systemTimers } from '../runtime/system-clock';
import { BridgeService } from './bridge-service';
import { cloudRuleFiles } from './cloud-rule-files';
import { DeadLetterFile } from './dead-letter';
import { type FsyncPolicy, Outbox } from './outbox/outbox';
import { type BridgeRule, type CloudProfile, cloudProfile } from './rules';
import type { OutboxMessage } from './outbox/record';
import { healthPayload } from '../runtime/health';
import { bridgeTopics } from './status';
import { TopicMapper } from './topic-map';
import { readTlsFiles } from './tls-files';

export type Cloud = CloudProfile['cloud'];

const KEYS = {
  c8y: { url: 'c8y.url', mqtt: 'c8y.mqtt', rootCert: 'c8y.root_cert_path', prefix: 'c8y.bridge.topic_prefix', maxPayload: 'c8y.mapper.mqtt.max_payload_size', keepalive: 'c8y.bridge.keepalive_interval' },
  az: { url: 'az.url', mqtt: 'az.mqtt', rootCert: 'az.root_cert_path', prefix: 'az.bridge.topic_prefix', maxPayload: 'az.mapper.mqtt.max_payload_size', keepalive: 'az.bridge.keepalive_interval' },
  aws: { url: 'aws.url', mqtt: 'aws.mqtt', rootCert: 'aws.root_cert_path', prefix: 'aws.bridge.topic_prefix', maxPayload: 'aws.mapper.mqtt.max_payload_size', keepalive: 'aws.bridge.keepalive_interval' },
} as const;

/** Where the outbox of the bridge with this topic prefix lives. */
export function outboxDir(dataPath: string, prefix: string): string {
  return join(dataPath, 'bridge', prefix, 'outbox');
}

/** Where the records the cloud refused are kept (beside the outbox, not in it: the outbox only holds what is to be sent). */
export function deadLetterPath(dataPath: string, prefix: string): string {
  return join(dataPath, 'bridge', prefix, 'dead-letter.jsonl');
}

function hostPort(text: string): { host: string; port: number } {
  const i = text.lastIndexOf(':');
  return { host: text.slice(0, i), port: Number(text.slice(i + 1)) };
}

/** The limit the mapper applies to its outputs, whichever bridge (built-in or mosquitto's) carries them. */
export function cloudPayloadLimit(config: TedgeConfig, cloud: Cloud): CloudPayloadLimit {
  const keys = KEYS[cloud];
  const mqtt = config.text(keys.mqtt);
  const profile = cloudProfile(cloud, { prefix: config.string(keys.prefix), deviceId: config.text('device.id') ?? '', azHost: mqtt === undefined ? '' : hostPort(mqtt).host });
  const mapper = new TopicMapper(profile.rules);
  return { bytes: config.number(keys.maxPayload), key: keys.maxPayload, appliesTo: (topic) => mapper.toRemote(topic) !== undefined };
}

/**
 * The rules, session and user name of `cloud`'s built-in bridge, from the config's view of one connection
 * (a profile's view gives the profile's prefix), then what `mappers/<cloud>[.<profile>]/bridge/*.toml` adds:
 * what the running bridge uses and `tedge bridge inspect|test` shows.
 */
export function builtInCloudProfile(config: TedgeConfig, cloud: Cloud): CloudProfile {
  const keys = KEYS[cloud];
  const builtIn = cloudProfile(cloud, { prefix: config.string(keys.prefix), deviceId: config.deviceId(), azHost: hostPort(config.string(keys.mqtt)).host });
  return { ...builtIn, rules: [...builtIn.rules, ...cloudRuleFiles(config, cloud, builtIn.rules).added] };
}

/** The built-in bridge checked and its outbox open, but no MQTT session yet. */
export interface PreparedBridge {
  /** Opens its local session (the cloud link starts with the service); `stop` ends a wait for the broker. */
  connect(stop?: AbortSignal): Promise<BridgeService>;
  /** Closes the outbox when the daemon gives up before connecting. */
  abandon(): Promise<void>;
}

/**
 * What one built-in bridge connects: the same service, outbox and cloud link for the built-in clouds
 * and for user-defined mappers (mapper.toml and bridge/*.toml), only these settings differ.
 */
export interface BridgeConnection {
  /** The service name, `tedge-mapper-bridge-<x>`: its health and metrics topics and its local session. */
  readonly name: string;
  /** `<data.path>/bridge/<store>/`: where its outbox and dead letters live. */
  readonly store: string;
  readonly rules: readonly BridgeRule[];
  readonly remote: { readonly host: string; readonly port: number };
  readonly clientId: string;
  readonly cleanSession: boolean;
  readonly username?: string;
  readonly password?: string;
  /** Read at each connection attempt (a renewed certificate is used at the next one); undefined: plain TCP. */
  readonly readTls?: () => { readonly ca: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
  /** For the one-line TLS error: which setting names the CA, the certificate's path. */
  readonly tlsContext: { readonly rootCertKey: string; readonly rootCertPath: string; readonly certPath: string };
  readonly keepaliveMs: number;
  readonly maxPayload: { readonly bytes: number; readonly key: string };
  /** Sent straight to the cloud after each connect, ahead of the outbox (c8y: 500). */
  readonly onConnect: readonly OutboxMessage[];
}

/**
 * The built-in bridge of `cloud`, or undefined when it is not wanted: `mqtt.bridge.built_in=false`
 * (a mosquitto bridge is used instead) or `<cloud>.url` unset (the device is not connected).
 */
export function prepareBuiltInBridge(
  config: TedgeConfig,
  logger: Logger,
  cloud: Cloud,
  deps: { readonly clock?: Clock; readonly timers?: Timers } = {},
): PreparedBridge | undefined {
  const keys = KEYS[cloud];
  if (!config.boolean('mqtt.bridge.built_in')) {
    logger.info('built-in bridge disabled (mqtt.bridge.built_in=false)');
    return undefined;
  }
  const url = config.text(keys.url);
  if (url === undefined || url === '') {
    logger.info(`built-in bridge not started: ${keys.url} is not set`);
    return undefined;
  }
  const deviceId = config.deviceId();
  const prefix = config.string(keys.prefix);
  const remote = hostPort(config.string(keys.mqtt));
  const profile = builtInCloudProfile(config, cloud);
  const tlsPaths = { rootCertPath: config.string(keys.rootCert), certPath: config.string('device.cert_path'), keyPath: config.string('device.key_path') };
  return prepareBridge(
    config,
    logger,
    {
      name: `tedge-mapper-bridge-${prefix}`,
      store: prefix,
      rules: profile.rules,
      remote,
      clientId: deviceId,
      cleanSession: profile.cleanSession,
      ...(profile.username !== undefined ? { username: profile.username } : {}),
      readTls: () => readTlsFiles(tlsPaths),
      tlsContext: { rootCertKey: keys.rootCert, rootCertPath: tlsPaths.rootCertPath, certPath: tlsPaths.certPath },
      keepaliveMs: durationMs(config.string(keys.keepalive)),
      maxPayload: { bytes: config.number(keys.maxPayload), key: keys.maxPayload },
      onConnect: cloud === 'c8y' ? [{ topic: 's/us', payload: Buffer.from('500'), qos: 1, retain: false }] : [],
    },
    deps,
  );
}

/**
 * A built-in bridge for `connection`. Everything that can be refused (settings, the outbox) is checked
 * here, synchronously, before any MQTT session opens: a daemon that cannot run holds no connection.
 */
export function prepareBridge(config: TedgeConfig, logger: Logger, connection: BridgeConnection, deps: { readonly clock?: Clock; readonly timers?: Timers } = {}): PreparedBridge {
  const fsync = config.string('mqtt.bridge.outbox.fsync');
  if (fsync !== 'always' && fsync !== 'never') throw new TedgeError('CONFIG_INVALID_VALUE', `invalid value '${fsync}' for 'mqtt.bridge.outbox.fsync': expected always or never`);
  const maxBytes = config.number('mqtt.bridge.outbox.max_bytes');
  if (maxBytes < 1024) throw new TedgeError('CONFIG_INVALID_VALUE', `invalid value '${maxBytes}' for 'mqtt.bridge.outbox.max_bytes': expected at least 1024`);

  const clock = deps.clock ?? systemClock;
  const timers = deps.timers ?? systemTimers;
  const { name, remote } = connection;
  const deviceTopic = config.string('mqtt.device_topic_id').split('/')[1] ?? 'main';
  const topics = bridgeTopics(config.string('mqtt.topic_root'), deviceTopic, name);
  const timestampFormat = config.string('service.timestamp_format') === 'rfc-3339' ? ('rfc-3339' as const) : ('unix' as const);
  const log = logger.child({ component: name });

  const dir = outboxDir(config.string('data.path'), connection.store);
  let outbox: Outbox;
  try {
    outbox = Outbox.open({ dir, maxBytes, fsync: fsync satisfies FsyncPolicy, timers, logger: log });
  } catch (err) {
    throw new TedgeError('IO', `cannot open the bridge outbox in ${dir} (under data.path): ${errorMessage(err)}`, { cause: err });
  }
  const tlsContext = { endpoint: `${remote.host}:${remote.port}`, ...connection.tlsContext };
  // thin-edge's built-in bridge, too, reaches the cloud's MQTT through proxy.address (a CONNECT tunnel).
  const proxy = outgoingProxy(config, remote.host);
  if (proxy) log.info({ proxy: `${proxy.host}:${proxy.port}` }, 'the cloud connection goes through the HTTP proxy');
  const connectCloud = async (signal: AbortSignal): Promise<MqttBus> => {
    try {
      return await MqttBus.connect({
        ...remote,
        ...(proxy ? { openSocket: (s?: AbortSignal) => openTunnel(proxy, remote.host, remote.port, s) } : {}),
        clientId: connection.clientId,
        cleanSession: connection.cleanSession,
        manualAck: true,
        ...(connection.readTls !== undefined ? { tls: connection.readTls() } : {}),
        ...(connection.username !== undefined ? { username: connection.username } : {}),
        ...(connection.password !== undefined ? { password: connection.password } : {}),
        reconnectPeriodMs: 0,
        connectTimeoutMs: 30_000,
        keepaliveSeconds: Math.max(1, Math.round(connection.keepaliveMs / 1000)),
        signal,
      });
    } catch (err) {
      // One line that says which side refused whom, rather than OpenSSL's text.
      throw classifyTlsError((err as { cause?: unknown }).cause ?? err, tlsContext) ?? err;
    }
  };
  return {
    abandon: () => outbox.close(),
    async connect(stop?: AbortSignal): Promise<BridgeService> {
      const local = await MqttBus.connect({
        ...(stop !== undefined ? { signal: stop } : {}),
        ...localBrokerOptions(config),
        clientId: name,
        // Persistent: while the mapper is down the broker keeps what it owes the bridge.
        cleanSession: false,
        manualAck: true,
        will: { topic: topics.health, payload: healthPayload('down', process.pid, clock.now(), timestampFormat), qos: 1, retain: true },
      });
      return new BridgeService({
        name,
        rules: connection.rules,
        local,
        connectCloud,
        outbox,
        policy: {
          initialMs: durationMs(config.string('mqtt.bridge.reconnect_policy.initial_interval')),
          maximumMs: durationMs(config.string('mqtt.bridge.reconnect_policy.maximum_interval')),
          resetWindowMs: durationMs(config.string('mqtt.bridge.reconnect_policy.reset_window')),
        },
        topics,
        clock,
        timers,
        logger: log,
        pid: process.pid,
        timestampFormat,
        maxPayload: connection.maxPayload,
        deadLetters: new DeadLetterFile(deadLetterPath(config.string('data.path'), connection.store)),
        onConnect: [...connection.onConnect],
      });
    },
  };
}

/** The bridge's and the mapper's services in start order: the bridge first, so its session holds the
 * mapper's first messages, and it stops last, after the mapper's final messages are stored. */
export async function withBuiltInBridge(bridge: PreparedBridge | undefined, logger: Logger, mapper: Lifecycle, stop?: AbortSignal): Promise<Lifecycle> {
  if (bridge === undefined) return mapper;
  const service = await bridge.connect(stop);
  const mapperService: Service = { name: 'mapper', start: () => mapper.start(), stop: () => mapper.stop() };
  return new Lifecycle([service, mapperService], logger);
}
