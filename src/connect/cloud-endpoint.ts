import { join } from 'node:path';
import { type CloudProfile, cloudProfile } from '../bridge/rules';
import { deviceCertPaths } from '../certs/paths';
import { TedgeError } from '../core/errors';
import { serviceTopicId, topicFor } from '../core/topics';
import type { ConfigKey } from '../config/keys';
import { mapperServiceName, scopeLabel } from '../config/profiles';
import type { TedgeConfig } from '../config/tedge-config';
import { durationMs } from '../config/value-types';
import { type OutgoingProxy, outgoingProxy } from '../runtime/outgoing-proxy';

export type Cloud = CloudProfile['cloud'];
export const CLOUDS: readonly Cloud[] = ['c8y', 'az', 'aws'];

export const CLOUD_NAMES: Readonly<Record<Cloud, string>> = { c8y: 'Cumulocity', az: 'Azure IoT Hub', aws: 'AWS IoT' };

export function isCloud(text: string): text is Cloud {
  return (CLOUDS as readonly string[]).includes(text);
}

/** Everything `tedge connect <cloud>` needs to reach the cloud and to write its bridge. */
export interface CloudEndpoint {
  readonly cloud: Cloud;
  /** Host of `<cloud>.url` (no scheme, no port). */
  readonly urlHost: string;
  /** `<cloud>.mqtt` */
  readonly host: string;
  readonly port: number;
  readonly rootCertKey: ConfigKey;
  readonly rootCertPath: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** CN of the device certificate: the MQTT client id and the device's external id. */
  readonly deviceId: string;
  readonly deviceType: string;
  /** Rules, session cleanliness and user name: the same table the built-in bridge uses. */
  readonly profile: CloudProfile;
  /** Local topic prefix of the bridged topics (`<cloud>.bridge.topic_prefix`). */
  readonly prefix: string;
  /** `<config-dir>/mosquitto-conf/<cloud>-bridge.conf`: its presence means "connected". */
  readonly bridgeConfPath: string;
  /** Health topic mosquitto publishes its bridge state on (notification_topic). */
  readonly mosquittoHealthTopic: string;
  /** `tedge-mapper-<cloud>`, `tedge-mapper-<cloud>@<profile>` */
  readonly mapperService: string;
  /** `<cloud>.bridge.keepalive_interval`, in seconds. */
  readonly keepaliveSeconds: number;
  /** The cloud profile (`--profile`), undefined for the default connection. */
  readonly profileName: string | undefined;
  /** `proxy.address`, which only the built-in bridge uses for MQTT (as thin-edge); unset when `proxy.no_proxy` names the host. */
  readonly proxy?: OutgoingProxy;
}

const KEYS = {
  c8y: { url: 'c8y.url', mqtt: 'c8y.mqtt', rootCert: 'c8y.root_cert_path', prefix: 'c8y.bridge.topic_prefix', keepalive: 'c8y.bridge.keepalive_interval' },
  az: { url: 'az.url', mqtt: 'az.mqtt', rootCert: 'az.root_cert_path', prefix: 'az.bridge.topic_prefix', keepalive: 'az.bridge.keepalive_interval' },
  aws: { url: 'aws.url', mqtt: 'aws.mqtt', rootCert: 'aws.root_cert_path', prefix: 'aws.bridge.topic_prefix', keepalive: 'aws.bridge.keepalive_interval' },
} as const satisfies Record<Cloud, Record<string, ConfigKey>>;

const URL_EXAMPLES: Readonly<Record<Cloud, string>> = { c8y: '<tenant>.cumulocity.com', az: '<hub>.azure-devices.net', aws: '<id>-ats.iot.<region>.amazonaws.com' };

export const MOSQUITTO_CONF_DIR = 'mosquitto-conf';

/** `c8y-bridge.conf`, and thin-edge's `c8y@<profile>-bridge.conf` for a profile: its presence means "connected". */
export function bridgeConfPath(configDir: string, cloud: Cloud, profile?: string): string {
  return join(configDir, MOSQUITTO_CONF_DIR, `${scopeLabel({ cloud, profile })}-bridge.conf`);
}

/** `example.com`, `https://example.com/`, `example.com:443` → `example.com` */
export function hostOfUrl(url: string): string {
  return url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/[/?#].*$/, '').replace(/:\d+$/, '');
}

function splitHostPort(text: string): { host: string; port: number } {
  const i = text.lastIndexOf(':');
  return { host: text.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(text.slice(i + 1)) };
}

/**
 * Resolves and validates (step 2 of §3.2) what connecting to `cloud` needs. Reading the device id
 * does not validate the certificate: that is a step of its own, reported as such.
 */
export function resolveEndpoint(config: TedgeConfig, cloud: Cloud): CloudEndpoint {
  const keys = KEYS[cloud];
  // A profile's keys are read through the config's view of it (TedgeConfig.forCloud); its name is only used to name files and services.
  const scope = config.scope?.cloud === cloud ? config.scope : { cloud, profile: undefined };
  const url = config.text(keys.url);
  if (url === undefined || url.trim() === '') {
    throw new TedgeError('CONFIG_INVALID_VALUE', `'${keys.url}' is not set; set it with: tedge config set ${keys.url} ${URL_EXAMPLES[cloud]}`);
  }
  const { certPath, keyPath } = deviceCertPaths(config);
  const deviceId = config.text('device.id');
  if (deviceId === undefined || deviceId === '') {
    throw new TedgeError('CERT_MISSING', `no device id: there is no device certificate at ${certPath}; create one with: tedge cert create --device-id <id>`);
  }
  const prefix = config.string(keys.prefix);
  if (prefix === '' || /[#+/]/.test(prefix)) throw new TedgeError('CONFIG_INVALID_VALUE', `invalid value '${prefix}' for '${keys.prefix}': expected one topic level without wildcards`);
  // thin-edge's rule: two connections to one cloud sharing a prefix would share local topics and the bridge outbox.
  for (const other of [undefined, ...config.profiles(cloud)]) {
    if (other === scope.profile || config.forCloud(cloud, other).text(keys.prefix) !== prefix) continue;
    const otherKey = other === undefined ? keys.prefix : `${cloud}.profiles.${other}.bridge.topic_prefix`;
    throw new TedgeError('CONFIG_INVALID_VALUE', `the bridge topic prefix '${prefix}' is also that of ${other === undefined ? `the default ${cloud} connection` : `profile '${other}'`} (${otherKey}): give each connection its own`);
  }
  const { host, port } = splitHostPort(config.string(keys.mqtt));
  const urlHost = hostOfUrl(url);
  const device = config.string('mqtt.device_topic_id').split('/')[1] ?? 'main';
  const proxy = config.boolean('mqtt.bridge.built_in') ? outgoingProxy(config, host) : undefined;
  return {
    ...(proxy ? { proxy } : {}),
    cloud,
    urlHost,
    host,
    port,
    rootCertKey: keys.rootCert,
    rootCertPath: config.string(keys.rootCert),
    certPath,
    keyPath,
    deviceId,
    deviceType: config.string('device.type'),
    // Azure wants the hub host (`<cloud>.url`, as thin-edge) in the user name.
    profile: cloudProfile(cloud, { prefix, deviceId, azHost: urlHost }),
    prefix,
    bridgeConfPath: bridgeConfPath(config.configDir, cloud, scope.profile),
    mosquittoHealthTopic: topicFor(serviceTopicId(device, `mosquitto-${prefix}-bridge`), { kind: 'health' }, config.string('mqtt.topic_root')),
    mapperService: mapperServiceName(scope),
    keepaliveSeconds: Math.max(1, Math.round(durationMs(config.string(keys.keepalive)) / 1000)),
    profileName: scope.profile,
  };
}

/** `host:port` for messages. */
export function endpointAddress(endpoint: Pick<CloudEndpoint, 'host' | 'port'>): string {
  return endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}
