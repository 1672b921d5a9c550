import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { commonNameOf } from '../certs/subject';
import type { TedgeConfig } from '../config/tedge-config';
import { parseToml } from '../config/toml';
import { TedgeError } from '../core/errors';

type Table = Record<string, unknown>;

/** thin-edge's `cloud_type`: which built-in cloud integration a mapper directory belongs to. Metadata only (thin-edge 2.x dispatches nothing on it). */
export const CLOUD_TYPES = ['c8y', 'az', 'aws'] as const;
export type CloudType = (typeof CLOUD_TYPES)[number];

/** Where an effective value comes from; `tag` is the short form `tedge mapper list` prints in brackets. */
export type ValueSource =
  | { readonly tag: 'mapper.toml'; readonly relative?: string }
  | { readonly tag: 'tedge.toml' }
  | { readonly tag: 'cert CN'; readonly certPath: string }
  | { readonly tag: 'default' };

export interface Sourced<T> {
  readonly value: T;
  readonly source: ValueSource;
}

/** The one-line note `tedge mapper config get` writes on stderr, after `# `; `configFile` names tedge.ini or tedge.toml, the one in use. */
export function sourceNote(source: ValueSource, configFile: string): string {
  switch (source.tag) {
    case 'mapper.toml':
      return source.relative === undefined ? 'from mapper.toml' : `relative path '${source.relative}' in mapper.toml, made absolute`;
    case 'tedge.toml':
      return `not in mapper.toml, taken from ${configFile}`;
    case 'cert CN':
      return `the CN of the certificate ${source.certPath}`;
    case 'default':
      return 'default value';
  }
}

function table(v: unknown): Table {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Table) : {};
}

/** The value at a dotted path of a TOML table; undefined when a part is missing. */
export function valueAt(doc: Table, dotted: string): unknown {
  let at: unknown = doc;
  for (const part of dotted.split('.')) {
    if (at === null || typeof at !== 'object' || Array.isArray(at)) return undefined;
    at = (at as Table)[part];
  }
  return at;
}

const PATH_KEYS = ['device.cert_path', 'device.key_path', 'device.root_cert_path', 'credentials_path'] as const;

/** A mapper.toml, read: `table` as written, `params` with its path keys resolved against the mapper directory. */
export interface MapperToml {
  readonly file: string;
  readonly table: Table;
  readonly params: Table;
  readonly cloudType: CloudType | undefined;
}

/**
 * `<mapper dir>/mapper.toml`, undefined when there is none. Refused with one line naming the file: TOML
 * that does not parse, and a `cloud_type` that is not one of the built-in clouds (thin-edge rejects it when
 * the file is read, so a mapper with it does not start).
 */
export function readMapperToml(dir: string): MapperToml | undefined {
  const file = join(dir, 'mapper.toml');
  if (!existsSync(file)) return undefined;
  const doc = parseToml(readFileSync(file, 'utf8'), file);
  const cloudType = doc['cloud_type'];
  if (cloudType !== undefined && !CLOUD_TYPES.some((c) => c === cloudType)) {
    throw new TedgeError('CONFIG_FILE', `${file}: cloud_type ${JSON.stringify(cloudType)}: expected one of ${CLOUD_TYPES.join(', ')} (only the built-in clouds' mappers set it; leave it out for another cloud)`);
  }
  const params = structuredClone(doc) as Table;
  for (const key of PATH_KEYS) {
    const [section, name] = key.includes('.') ? key.split('.') : [undefined, key];
    const holder = section === undefined ? params : table(params[section]);
    const v = holder[name ?? ''];
    if (typeof v === 'string' && !isAbsolute(v)) holder[name ?? ''] = resolve(dir, v);
  }
  return { file, table: doc, params, cloudType: cloudType as CloudType | undefined };
}

/**
 * What a user-defined mapper connects with, each value with where it came from, as thin-edge resolves it
 * for the running mapper and for `tedge mapper list|config get` alike.
 */
export interface EffectiveMapperConfig {
  readonly toml: MapperToml;
  /** `host:port` (8883 when mapper.toml gives no port). */
  readonly url: Sourced<string> | undefined;
  readonly auth: Sourced<'certificate' | 'password'>;
  /** The MQTT client id; undefined with certificate authentication and a certificate that cannot be read. */
  readonly deviceId: Sourced<string> | undefined;
  readonly certPath: Sourced<string> | undefined;
  readonly keyPath: Sourced<string> | undefined;
  readonly rootCertPath: Sourced<string>;
  readonly credentialsPath: Sourced<string> | undefined;
}

function stringAt(toml: MapperToml, key: string): string | undefined {
  const v = valueAt(toml.params, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new TedgeError('CONFIG_FILE', `${toml.file}: ${key} must be a string`);
  return v;
}

/** A path key: mapper.toml's (absolute, noting a relative original), else the fallback. */
function pathOf(toml: MapperToml, key: string, fallback: () => Sourced<string> | undefined): Sourced<string> | undefined {
  const value = stringAt(toml, key);
  if (value === undefined) return fallback();
  const original = valueAt(toml.table, key);
  return { value, source: typeof original === 'string' && !isAbsolute(original) ? { tag: 'mapper.toml', relative: original } : { tag: 'mapper.toml' } };
}

function certificateCn(path: string): string | undefined {
  try {
    return commonNameOf(new X509Certificate(readFileSync(path)).subject);
  } catch {
    return undefined;
  }
}

function tedgeDeviceId(config: TedgeConfig): string | undefined {
  try {
    return config.deviceId();
  } catch {
    return undefined;
  }
}

/** `host[:port]` → `host:port`, the port 8883 when absent (thin-edge's mapper.toml `url`). */
export function parseMapperUrl(url: string, file: string): { host: string; port: number } {
  const m = /^([^:/\s]+)(?::(\d+))?$/.exec(url.trim());
  if (m === null) throw new TedgeError('CONFIG_FILE', `${file}: url '${url}' is not host or host:port`);
  return { host: m[1] ?? '', port: m[2] === undefined ? 8883 : Number(m[2]) };
}

/**
 * The effective values of a user mapper's mapper.toml, thin-edge's rules: certificate and key from
 * mapper.toml, else tedge.toml's; root certificates from mapper.toml, else /etc/ssl/certs; `auth_method`
 * `auto` is password when a `credentials_path` is given; the client id is the certificate's CN with
 * certificate authentication (mapper.toml's `device.id`, then tedge.toml's, when the certificate has no CN),
 * mapper.toml's `device.id`, then tedge.toml's, with password authentication.
 */
export function resolveMapperConfig(config: TedgeConfig, toml: MapperToml): EffectiveMapperConfig {
  const fromTedge = (key: 'device.cert_path' | 'device.key_path'): Sourced<string> | undefined => {
    const v = config.text(key);
    return v === undefined ? undefined : { value: v, source: { tag: 'tedge.toml' } };
  };
  const certPath = pathOf(toml, 'device.cert_path', () => fromTedge('device.cert_path'));
  const keyPath = pathOf(toml, 'device.key_path', () => fromTedge('device.key_path'));
  const rootCertPath = pathOf(toml, 'device.root_cert_path', () => undefined) ?? { value: '/etc/ssl/certs', source: { tag: 'default' } };
  const credentialsPath = pathOf(toml, 'credentials_path', () => undefined);

  const method = stringAt(toml, 'auth_method') ?? 'auto';
  let auth: Sourced<'certificate' | 'password'>;
  if (method === 'certificate') auth = { value: 'certificate', source: { tag: 'mapper.toml' } };
  else if (method === 'password' || method === 'basic') auth = { value: 'password', source: { tag: 'mapper.toml' } };
  else if (method === 'auto') auth = { value: credentialsPath !== undefined ? 'password' : 'certificate', source: { tag: 'default' } };
  else throw new TedgeError('CONFIG_FILE', `${toml.file}: auth_method '${method}': expected auto, certificate or password`);

  const explicitId = stringAt(toml, 'device.id');
  const fallbackId = (): Sourced<string> | undefined => {
    if (explicitId !== undefined) return { value: explicitId, source: { tag: 'mapper.toml' } };
    const id = tedgeDeviceId(config);
    return id === undefined || id === '' ? undefined : { value: id, source: { tag: 'tedge.toml' } };
  };
  let deviceId: Sourced<string> | undefined;
  if (auth.value === 'password') deviceId = fallbackId();
  else if (certPath !== undefined && existsSync(certPath.value)) {
    const cn = certificateCn(certPath.value);
    deviceId = cn === undefined ? undefined : cn === '' ? fallbackId() : { value: cn, source: { tag: 'cert CN', certPath: certPath.value } };
  }

  const url = stringAt(toml, 'url');
  const remote = url === undefined ? undefined : parseMapperUrl(url, toml.file);
  return {
    toml,
    url: remote === undefined ? undefined : { value: `${remote.host}:${remote.port}`, source: { tag: 'mapper.toml' } },
    auth,
    deviceId,
    certPath,
    keyPath,
    rootCertPath,
    credentialsPath,
  };
}

/** The keys of thin-edge's mapper.toml schema: a key of these that is not set is "not set", any other missing key unknown. */
export const MAPPER_SCHEMA_KEYS: readonly string[] = [
  'url',
  'auth_method',
  'credentials_path',
  'device.id',
  'device.cert_path',
  'device.key_path',
  'device.root_cert_path',
  'bridge.clean_session',
  'bridge.keepalive_interval',
  'bridge.tls.enable',
  'bridge.max_payload_size',
];

/** How `tedge mapper config get` prints a TOML value: strings bare, anything else as TOML would write it (JSON is close enough for arrays and tables). */
export function displayValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

/**
 * One key of a user mapper's effective config: the schema keys resolved (fallbacks, certificate CN,
 * relative paths made absolute), others read from mapper.toml as written.
 */
export function effectiveValue(effective: EffectiveMapperConfig, key: string): Sourced<string> | 'not set' | 'unknown' {
  const typed: Record<string, Sourced<string> | undefined> = {
    url: effective.url,
    'device.id': effective.deviceId,
    'device.cert_path': effective.certPath,
    'device.key_path': effective.keyPath,
    'device.root_cert_path': effective.rootCertPath,
    credentials_path: effective.credentialsPath,
    auth_method: effective.auth,
  };
  const resolved = typed[key];
  if (resolved !== undefined) return resolved;
  const raw = valueAt(effective.toml.table, key);
  if (raw !== undefined) return { value: displayValue(raw), source: { tag: 'mapper.toml' } };
  if (key === 'bridge.tls.enable') return { value: 'auto', source: { tag: 'default' } };
  return MAPPER_SCHEMA_KEYS.includes(key) ? 'not set' : 'unknown';
}
