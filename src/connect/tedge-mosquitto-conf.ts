import { join } from 'node:path';
import { writeFileAtomic } from '../certs/files';
import type { TedgeConfig } from '../config/tedge-config';
import { MOSQUITTO_CONF_DIR } from './cloud-endpoint';

export const TEDGE_MOSQUITTO_CONF = 'tedge-mosquitto.conf';

export function tedgeMosquittoConfPath(configDir: string): string {
  return join(configDir, MOSQUITTO_CONF_DIR, TEDGE_MOSQUITTO_CONF);
}

/** thin-edge's log types for the local broker: connections and subscriptions show in its log. */
const LOG_TYPES = ['error', 'warning', 'notice', 'information', 'subscribe', 'unsubscribe'];

/**
 * Pure: `<config-dir>/mosquitto-conf/tedge-mosquitto.conf`, as thin-edge's `tedge connect` writes it when
 * mqtt.bind.enabled: the local listener (mqtt.bind.*, anonymous) and, when mqtt.external.bind.port is
 * set, the external one: TLS with mqtt.external.cert_file/key_file, client certificates required
 * (no anonymous clients) when mqtt.external.ca_path is set.
 */
export function renderTedgeMosquittoConf(config: Pick<TedgeConfig, 'text' | 'string' | 'number'>): string {
  const value = (key: Parameters<TedgeConfig['text']>[0]): string | undefined => {
    const v = config.text(key);
    return v === undefined || v === '' ? undefined : v;
  };
  const lines = ['per_listener_settings true', 'connection_messages true', ...LOG_TYPES.map((t) => `log_type ${t}`), `message_size_limit ${256 * 1024 * 1024 - 1}`];
  lines.push(`listener ${config.number('mqtt.bind.port')} ${config.string('mqtt.bind.address')}`, 'allow_anonymous true', 'require_certificate false');
  const externalPort = value('mqtt.external.bind.port');
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
  return `${lines.join('\n')}\n`;
}

export function writeTedgeMosquittoConf(config: TedgeConfig): string {
  const path = tedgeMosquittoConfPath(config.configDir);
  writeFileAtomic(path, renderTedgeMosquittoConf(config), 0o644);
  return path;
}
