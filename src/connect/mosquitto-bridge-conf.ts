import type { BridgeRule, Direction } from '../bridge/rules';
import { TedgeError } from '../core/errors';
import { type Cloud, type CloudEndpoint, endpointAddress } from './cloud-endpoint';

/**
 * `<config-dir>/mosquitto-conf/<cloud>-bridge.conf` (§2.2, §3.2 step 7). With the built-in bridge it
 * holds one comment line, as thin-edge writes it: the file still says "connected" and mosquitto's
 * include_dir finds nothing to load. With `mqtt.bridge.built_in=false` it is a mosquitto bridge
 * whose topic lines are rendered from the built-in bridge's rule tables (bridge/rules.ts), so both
 * bridges carry exactly the same topics.
 */

export const BUILT_IN_BRIDGE_CONF = '# This file is left empty as the built-in bridge is enabled\n';

export interface MosquittoBridge {
  /** `edge_to_<cloud>` */
  readonly connection: string;
  /** host:port of the cloud */
  readonly address: string;
  /** bridge_capath for a directory (/etc/ssl/certs), bridge_cafile for a file */
  readonly rootCert: { readonly path: string; readonly isDirectory: boolean };
  readonly remoteClientId: string;
  readonly localClientId: string;
  readonly remoteUsername?: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly cleanSession: boolean;
  /** Written for mosquitto ≥ 2 (the only ones we support): the local side keeps its session. */
  readonly localCleanSession: boolean;
  readonly notificationTopic: string;
  readonly keepaliveSeconds: number;
  readonly rules: readonly BridgeRule[];
}

/** thin-edge's names for the local side of each bridge (what `mosquitto_sub -v '$SYS/#'` shows). */
const LOCAL_CLIENT_ID: Readonly<Record<Cloud, string>> = { c8y: 'Cumulocity', az: 'Azure', aws: 'Aws' };

export function mosquittoBridge(endpoint: CloudEndpoint, opts: { readonly rootCertIsDirectory: boolean; readonly keepaliveSeconds?: number }): MosquittoBridge {
  return {
    // thin-edge's names: two connections in one mosquitto need two names (edge_to_c8y@<profile>, Cumulocity@<profile>).
    connection: endpoint.profileName === undefined ? `edge_to_${endpoint.cloud}` : `edge_to_${endpoint.cloud}@${endpoint.profileName}`,
    address: endpointAddress(endpoint),
    rootCert: { path: endpoint.rootCertPath, isDirectory: opts.rootCertIsDirectory },
    remoteClientId: endpoint.deviceId,
    localClientId: endpoint.profileName === undefined ? LOCAL_CLIENT_ID[endpoint.cloud] : `${LOCAL_CLIENT_ID[endpoint.cloud]}@${endpoint.profileName}`,
    ...(endpoint.profile.username !== undefined ? { remoteUsername: endpoint.profile.username } : {}),
    certFile: endpoint.certPath,
    keyFile: endpoint.keyPath,
    cleanSession: endpoint.profile.cleanSession,
    localCleanSession: false,
    notificationTopic: endpoint.mosquittoHealthTopic,
    keepaliveSeconds: opts.keepaliveSeconds ?? 60,
    rules: endpoint.profile.rules,
  };
}

const DIRECTION: Readonly<Record<Direction, string>> = { outbound: 'out', inbound: 'in', bidirectional: 'both' };

/**
 * mosquitto reads a value up to the end of the line (a path) or to the next space (a topic part):
 * a space, a line break or a `#` would end it early or start a new directive, so such values are
 * refused rather than written. An empty topic part is mosquitto's `""`.
 */
function word(value: string, what: string): string {
  if (/[\s\u0000-\u001f\u007f]/.test(value)) throw new TedgeError('CONFIG_INVALID_VALUE', `cannot write a mosquitto bridge: the ${what} '${value}' contains a space or a control character`);
  return value;
}

function topicPart(value: string, what: string): string {
  return value === '' ? '""' : word(value, what);
}

/** `topic <pattern> <in|out|both> <qos> <local prefix> <remote prefix>` */
export function topicLine(rule: BridgeRule): string {
  return ['topic', topicPart(rule.topic, 'topic'), DIRECTION[rule.direction], String(rule.qos), topicPart(rule.localPrefix, 'local prefix'), topicPart(rule.remotePrefix, 'remote prefix')].join(' ');
}

/** Pure: the bridge configuration, in the order thin-edge writes it. */
export function renderMosquittoBridgeConf(b: MosquittoBridge): string {
  const lines = [
    '### Bridge',
    `connection ${word(b.connection, 'connection name')}`,
    `address ${word(b.address, 'address')}`,
    `${b.rootCert.isDirectory ? 'bridge_capath' : 'bridge_cafile'} ${word(b.rootCert.path, 'root certificate path')}`,
    `remote_clientid ${word(b.remoteClientId, 'device id')}`,
    `local_clientid ${word(b.localClientId, 'local client id')}`,
    ...(b.remoteUsername !== undefined ? [`remote_username ${word(b.remoteUsername, 'user name')}`] : []),
    `bridge_certfile ${word(b.certFile, 'certificate path')}`,
    `bridge_keyfile ${word(b.keyFile, 'key path')}`,
    'try_private false',
    'start_type automatic',
    `cleansession ${b.cleanSession}`,
    `local_cleansession ${b.localCleanSession}`,
    'notifications true',
    'notifications_local_only true',
    `notification_topic ${word(b.notificationTopic, 'notification topic')}`,
    'bridge_attempt_unsubscribe false',
    `keepalive_interval ${b.keepaliveSeconds}`,
    '',
    '### Topics',
    ...b.rules.map(topicLine),
  ];
  return `${lines.join('\n')}\n`;
}
