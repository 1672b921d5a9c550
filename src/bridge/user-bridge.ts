import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseToml } from '../config/toml';
import type { TedgeConfig } from '../config/tedge-config';
import { durationMs } from '../config/value-types';
import { type EffectiveMapperConfig, type MapperToml, parseMapperUrl, readMapperToml, resolveMapperConfig, valueAt } from '../flows/user-mapper-config';
import type { Clock, Timers } from '../core/clock';
import { TedgeError, errorMessage } from '../core/errors';
import type { Logger } from '../log/logger';
import { type PreparedBridge, prepareBridge } from './build';
import type { TemplateLookup } from './rule-files';
import { loadBridgeRuleFiles } from './rule-dir';
import type { BridgeRule } from './rules';
import { readCaCertificates, readTlsFiles } from './tls-files';
import { configTemplateValue } from './cloud-rule-files';

export { type BridgeRuleFile, loadBridgeRuleFiles } from './rule-dir';

/** MQTT's own limit on a packet: a user mapper's cloud has no known smaller one unless mapper.toml says so. */
const MQTT_MAX_PACKET = 268435455;

type Table = Record<string, unknown>;

function table(v: unknown): Table {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Table) : {};
}

/** `[credentials] username, password` of the file mapper.toml's credentials_path names. */
function readCredentials(path: string): { username: string; password: string } {
  let doc: Table;
  try {
    doc = parseToml(readFileSync(path, 'utf8'), path);
  } catch (err) {
    throw new TedgeError('CONFIG_FILE', `cannot read the credentials of a user-defined mapper ${path}: ${errorMessage(err)}`, { cause: err });
  }
  const c = table(doc['credentials']);
  if (typeof c['username'] !== 'string' || typeof c['password'] !== 'string') throw new TedgeError('CONFIG_FILE', `${path}: [credentials] needs username and password`);
  return { username: c['username'], password: c['password'] };
}

/** The rules of every `bridge/*.toml`, in file name order. */
export function loadBridgeRules(bridgeDir: string, lookup: TemplateLookup): BridgeRule[] {
  return loadBridgeRuleFiles(bridgeDir, lookup).flatMap((f) => f.rules);
}

/** The mapper.toml of a mapper with a `bridge/`: required, its url says where the bridge connects. */
export function readBridgeMapperToml(dir: string): MapperToml {
  const toml = readMapperToml(dir);
  if (toml === undefined) throw new TedgeError('CONFIG_FILE', `${dir} has a bridge/ but no mapper.toml: its url (host:port) says which cloud to connect to`);
  return toml;
}

/**
 * What `${…}` in a user mapper's rule files stands for: `mapper.*` the effective mapper.toml values (fallbacks
 * applied, as thin-edge's `tedge mapper config get` shows them), `tedge.*` tedge.toml, `connection.auth_method`.
 */
export function userMapperRuleLookup(config: TedgeConfig, toml: MapperToml, effective: EffectiveMapperConfig): TemplateLookup {
  const params = toml.params;
  const device = table(params['device']);
  const view: Table = {
    ...params,
    ...(effective.url !== undefined ? { url: effective.url.value } : {}),
    device: { ...device, id: effective.deviceId?.value, cert_path: effective.certPath?.value ?? '', key_path: effective.keyPath?.value ?? '', root_cert_path: effective.rootCertPath.value },
  };
  return (ns, key) => {
    if (ns === 'mapper') {
      const v = valueAt(view, key);
      if (Array.isArray(v)) return v.every((x): x is string => typeof x === 'string') ? v : undefined;
      return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : undefined;
    }
    if (ns === 'tedge') return configTemplateValue(config, key);
    if (ns === 'connection' && key === 'auth_method') return effective.auth.value;
    return undefined;
  };
}

/**
 * The cloud connection of a user-defined mapper (thin-edge 2.x): undefined without `bridge/` (flows only);
 * else `mapper.toml` gives the connection (`url`, `[device]` id, cert_path, key_path, root_cert_path,
 * `auth_method`, `credentials_path`, `[bridge]` clean_session, keepalive_interval, tls.enable,
 * max_payload_size; resolved by resolveMapperConfig, as `tedge mapper config get` shows them) and
 * `bridge/*.toml` the rules. The bridge is the built-in clouds' one: service `tedge-mapper-bridge-<name>`,
 * outbox in `<data.path>/bridge/mappers/<name>/`.
 */
export function prepareUserMapperBridge(
  config: TedgeConfig,
  logger: Logger,
  name: string,
  deps: { readonly clock?: Clock; readonly timers?: Timers } = {},
): PreparedBridge | undefined {
  const dir = join(config.configDir, 'mappers', name);
  const bridgeDir = join(dir, 'bridge');
  if (!existsSync(bridgeDir) || !statSync(bridgeDir).isDirectory()) return undefined;
  const toml = readBridgeMapperToml(dir);
  const file = toml.file;
  const effective = resolveMapperConfig(config, toml);
  if (effective.url === undefined) throw new TedgeError('CONFIG_FILE', `${file} has no url, which the MQTT bridge of bridge/ needs`);
  const remote = parseMapperUrl(effective.url.value, file);
  const params = toml.params;
  const bridge = table(params['bridge']);
  const auth = effective.auth.value;
  const rootCertPath = effective.rootCertPath.value;
  const credentialsPath = effective.credentialsPath?.value;
  if (auth === 'password' && credentialsPath === undefined) throw new TedgeError('CONFIG_FILE', `${file}: auth_method = "password" needs credentials_path`);
  const certPath = effective.certPath?.value ?? '';
  const keyPath = effective.keyPath?.value ?? '';
  if (auth === 'certificate' && (certPath === '' || keyPath === '')) {
    throw new TedgeError('CONFIG_FILE', `${file}: certificate authentication needs device.cert_path and device.key_path (in mapper.toml or tedge.toml)`);
  }

  const tlsSetting = String(table(bridge['tls'])['enable'] ?? 'auto');
  let tls: boolean;
  if (tlsSetting === 'on' || tlsSetting === 'true') tls = true;
  else if (tlsSetting === 'off' || tlsSetting === 'false') tls = false;
  else if (tlsSetting === 'auto') tls = remote.port !== 1883;
  else throw new TedgeError('CONFIG_FILE', `${file}: bridge.tls.enable '${tlsSetting}': expected auto, on or off`);
  if (!tls && auth === 'certificate') throw new TedgeError('CONFIG_FILE', `${file}: certificate authentication needs TLS, but bridge.tls.enable is off (or the port is 1883): set it on, or use auth_method = "password"`);

  const clientId = effective.deviceId?.value;
  if (clientId === undefined) {
    const why = auth === 'certificate' ? `the certificate ${certPath} cannot be read for its CN` : 'neither mapper.toml nor tedge.toml has a device.id';
    throw new TedgeError('CONFIG_FILE', `${file}: no MQTT client id: ${why}; set device.id in mapper.toml`);
  }
  const credentials = auth === 'password' && credentialsPath !== undefined ? readCredentials(credentialsPath) : undefined;

  const rules = loadBridgeRules(bridgeDir, userMapperRuleLookup(config, toml, effective));
  if (rules.length === 0) throw new TedgeError('CONFIG_FILE', `no bridge rule in ${bridgeDir}/*.toml`);

  const keepalive = bridge['keepalive_interval'];
  const maxPayload = bridge['max_payload_size'];
  return prepareBridge(
    config,
    logger,
    {
      name: `tedge-mapper-bridge-${name}`,
      store: join('mappers', name),
      rules,
      remote,
      clientId,
      cleanSession: bridge['clean_session'] === true,
      ...(credentials ?? {}),
      ...(tls ? { readTls: auth === 'certificate' ? () => readTlsFiles({ rootCertPath, certPath, keyPath }) : () => ({ ca: readCaCertificates(rootCertPath) }) } : {}),
      tlsContext: { rootCertKey: `${name}/mapper.toml device.root_cert_path`, rootCertPath, certPath },
      keepaliveMs: keepalive === undefined ? 60_000 : typeof keepalive === 'number' ? keepalive * 1000 : durationMs(String(keepalive)),
      maxPayload: { bytes: typeof maxPayload === 'number' ? maxPayload : MQTT_MAX_PACKET, key: `${name}/mapper.toml bridge.max_payload_size` },
      onConnect: [],
    },
    deps,
  );
}
