import { join } from 'node:path';
import { writeFileAtomic } from '../certs/files';
import type { TedgeConfig } from '../config/tedge-config';
import { MOSQUITTO_CONF_DIR } from './cloud-endpoint';

export const TEDGE_MOSQUITTO_CONF = 'tedge-mosquitto.conf';

export function tedgeMosquittoConfPath(configDir: string): string {
  return join(configDir, MOSQUITTO_CONF_DIR, TEDGE_MOSQUITTO_CONF);
}

/** What a daemon that is down leaves queued in mosquitto: the same bound as the bridge outbox (see the packaged file). */
const QUEUE_LIMITS = [
  "# While a daemon is down the broker queues its input in its persistent session. mosquitto's default of 1,000",
  "# messages drops most of a minute's burst; this matches the bridge outbox bound (mqtt.bridge.outbox.max_bytes,",
  '# 64 MiB), whichever comes first, per session. It is memory of mosquitto\'s while a daemon is down: lower it on',
  '# boards with less to spare. The mapper reports drops it finds (status/metrics/broker).',
  'max_queued_messages 100000',
  'max_queued_bytes 67108864',
];

/**
 * Pure: `<config-dir>/mosquitto-conf/tedge-mosquitto.conf`, which `tedge connect` writes when mqtt.bind.enabled (as
 * thin-edge): the local listener (mqtt.bind.*, anonymous) and, when mqtt.external.bind.port is set, thin-edge's
 * external one (per_listener_settings; TLS with mqtt.external.cert_file/key_file; client certificates required,
 * no anonymous clients, when mqtt.external.ca_path is set). With the default keys it is the file the .deb ships,
 * byte for byte, so a connect leaves that conffile unmodified.
 */
export function renderTedgeMosquittoConf(config: Pick<TedgeConfig, 'text' | 'string' | 'number'>): string {
  const value = (key: Parameters<TedgeConfig['text']>[0]): string | undefined => {
    const v = config.text(key);
    return v === undefined || v === '' ? undefined : v;
  };
  const externalPort = value('mqtt.external.bind.port');
  const lines = ['# The local MQTT bus of tedge-ts, included by /etc/mosquitto/mosquitto.conf (include_dir /etc/tedge/mosquitto-conf).'];
  // Two listeners with different rules: mosquitto applies allow_anonymous and the like per listener only so.
  if (externalPort !== undefined) lines.push('per_listener_settings true');
  lines.push(`listener ${config.number('mqtt.bind.port')} ${config.string('mqtt.bind.address')}`, 'allow_anonymous true');
  if (externalPort !== undefined) {
    const caPath = value('mqtt.external.ca_path');
    lines.push(`listener ${externalPort} ${value('mqtt.external.bind.address') ?? ''}`.trimEnd());
    lines.push(`allow_anonymous ${caPath === undefined}`, `require_certificate ${caPath !== undefined}`);
    const optional: Array<[string, string | undefined]> = [
      ['bind_interface', value('mqtt.external.bind.interface')],
      ['capath', caPath],
      ['certfile', value('mqtt.external.cert_file')],
      ['keyfile', value('mqtt.external.key_file')],
    ];
    for (const [directive, v] of optional) if (v !== undefined) lines.push(`${directive} ${v}`);
  }
  lines.push(...QUEUE_LIMITS);
  return `${lines.join('\n')}\n`;
}

export function writeTedgeMosquittoConf(config: TedgeConfig): string {
  const path = tedgeMosquittoConfPath(config.configDir);
  writeFileAtomic(path, renderTedgeMosquittoConf(config), 0o644);
  return path;
}
