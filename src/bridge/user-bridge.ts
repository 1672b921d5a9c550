import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { commonNameOf } from '../certs/subject';
import { CONFIG_KEYS, isConfigKey } from '../config/keys';
import { parseToml } from '../config/toml';
import type { TedgeConfig } from '../config/tedge-config';
import { durationMs } from '../config/value-types';
import type { Clock, Timers } from '../core/clock';
import { TedgeError, errorMessage } from '../core/errors';
import type { Logger } from '../log/logger';
import { type PreparedBridge, prepareBridge } from './build';
import { type TemplateLookup, parseBridgeRuleFile } from './rule-files';
import type { BridgeRule } from './rules';
import { readCaCertificates, readTlsFiles } from './tls-files';

/** MQTT's own limit on a packet: a user mapper's cloud has no known smaller one unless mapper.toml says so. */
const MQTT_MAX_PACKET = 268435455;

type Table = Record<string, unknown>;

function table(v: unknown): Table {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Table) : {};
}

function optionalString(t: Table, key: string, file: string): string | undefined {
  const v = t[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new TedgeError('CONFIG_FILE', `${file}: ${key} must be a string`);
  return v;
}

/** `host[:port]`, the port 8883 when absent (thin-edge's mapper.toml `url`). */
function parseUrl(url: string, file: string): { host: string; port: number } {
  const m = /^([^:/\s]+)(?::(\d+))?$/.exec(url.trim());
  if (m === null) throw new TedgeError('CONFIG_FILE', `${file}: url '${url}' is not host or host:port`);
  return { host: m[1] ?? '', port: m[2] === undefined ? 8883 : Number(m[2]) };
}

function certificateCn(path: string): string | undefined {
  try {
    return commonNameOf(new X509Certificate(readFileSync(path)).subject);
  } catch {
    return undefined;
  }
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

function walk(doc: Table, dotted: string): unknown {
  let at: unknown = doc;
  for (const part of dotted.split('.')) at = table(at)[part];
  return at;
}

/** The rules of every `bridge/*.toml`, in file name order. */
export function loadBridgeRules(bridgeDir: string, lookup: TemplateLookup): BridgeRule[] {
  const files = readdirSync(bridgeDir)
    .filter((f) => f.endsWith('.toml'))
    .sort();
  return files.flatMap((f) => {
    const path = join(bridgeDir, f);
    return parseBridgeRuleFile(parseToml(readFileSync(path, 'utf8'), path), path, lookup);
  });
}

/**
 * The cloud connection of a user-defined mapper (thin-edge 2.x): undefined without `bridge/` (flows only);
 * else `mapper.toml` gives the connection (`url`, `[device]` id, cert_path, key_path, root_cert_path,
 * `auth_method`, `credentials_path`, `[bridge]` clean_session, keepalive_interval, tls.enable,
 * max_payload_size) and `bridge/*.toml` the rules. `params` is mapper.toml with its paths already resolved
 * against the mapper directory. The bridge is the built-in clouds' one: service `tedge-mapper-bridge-<name>`,
 * outbox in `<data.path>/bridge/mappers/<name>/`.
 */
export function prepareUserMapperBridge(
  config: TedgeConfig,
  logger: Logger,
  name: string,
  params: Table,
  deps: { readonly clock?: Clock; readonly timers?: Timers } = {},
): PreparedBridge | undefined {
  const dir = join(config.configDir, 'mappers', name);
  const bridgeDir = join(dir, 'bridge');
  if (!existsSync(bridgeDir) || !statSync(bridgeDir).isDirectory()) return undefined;
  const file = join(dir, 'mapper.toml');
  if (!existsSync(file)) throw new TedgeError('CONFIG_FILE', `${dir} has a bridge/ but no mapper.toml: its url (host:port) says which cloud to connect to`);
  const url = optionalString(params, 'url', file);
  if (url === undefined) throw new TedgeError('CONFIG_FILE', `${file} has no url, which the MQTT bridge of bridge/ needs`);
  const remote = parseUrl(url, file);
  const device = table(params['device']);
  const bridge = table(params['bridge']);
  const certPath = optionalString(device, 'cert_path', file) ?? config.string('device.cert_path');
  const keyPath = optionalString(device, 'key_path', file) ?? config.string('device.key_path');
  const rootCertPath = optionalString(device, 'root_cert_path', file) ?? '/etc/ssl/certs';
  const credentialsPath = optionalString(params, 'credentials_path', file);

  const method = optionalString(params, 'auth_method', file) ?? 'auto';
  let auth: 'certificate' | 'password';
  if (method === 'certificate') auth = 'certificate';
  else if (method === 'password' || method === 'basic') auth = 'password';
  else if (method === 'auto') auth = credentialsPath !== undefined && !existsSync(certPath) ? 'password' : 'certificate';
  else throw new TedgeError('CONFIG_FILE', `${file}: auth_method '${method}': expected auto, certificate or password`);
  if (auth === 'password' && credentialsPath === undefined) throw new TedgeError('CONFIG_FILE', `${file}: auth_method = "password" needs credentials_path`);

  const tlsSetting = String(table(bridge['tls'])['enable'] ?? 'auto');
  let tls: boolean;
  if (tlsSetting === 'on' || tlsSetting === 'true') tls = true;
  else if (tlsSetting === 'off' || tlsSetting === 'false') tls = false;
  else if (tlsSetting === 'auto') tls = remote.port !== 1883;
  else throw new TedgeError('CONFIG_FILE', `${file}: bridge.tls.enable '${tlsSetting}': expected auto, on or off`);
  if (!tls && auth === 'certificate') throw new TedgeError('CONFIG_FILE', `${file}: certificate authentication needs TLS, but bridge.tls.enable is off (or the port is 1883): set it on, or use auth_method = "password"`);

  // Explicit device.id, else the certificate's CN, else the device's own id.
  const clientId = optionalString(device, 'id', file) ?? (auth === 'certificate' ? certificateCn(certPath) : undefined) ?? config.deviceId();
  const credentials = auth === 'password' && credentialsPath !== undefined ? readCredentials(credentialsPath) : undefined;

  // ${mapper.*} sees the effective values (fallbacks applied), as thin-edge's `tedge mapper config get` does.
  const effective: Table = { ...params, device: { ...device, id: clientId, cert_path: certPath, key_path: keyPath, root_cert_path: rootCertPath } };
  const lookup: TemplateLookup = (ns, key) => {
    if (ns === 'mapper') {
      const v = walk(effective, key);
      if (Array.isArray(v)) return v.every((x): x is string => typeof x === 'string') ? v : undefined;
      return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : undefined;
    }
    if (ns === 'tedge') return !isConfigKey(key) ? undefined : CONFIG_KEYS[key].type === 'string-list' ? config.list(key) : config.text(key);
    if (ns === 'connection' && key === 'auth_method') return auth;
    return undefined;
  };
  const rules = loadBridgeRules(bridgeDir, lookup);
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
