import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { commonNameOf } from '../certs/subject';
import { TedgeError, errorMessage } from '../core/errors';
import { type ConfigFile, locateConfigFile, readConfigFile, readMapperConfigs, writeConfigFile } from './config-file';
import { CONFIG_KEYS, type ConfigKey, envName, isConfigKey } from './keys';
import { type CloudScope, type ProfileCloud, isProfileableKey, parseProfiledKey, storedKeyOf } from './profiles';
import { thinEdgeOnlyFeature } from './thin-edge-only-keys';
import type { TomlTable } from './toml';
import { type ConfigValue, formatValue, parseValue } from './value-types';

export const DEFAULT_CONFIG_DIR = '/etc/tedge';
export { INI_FILE_NAME as CONFIG_FILE_NAME } from './config-file';

export type ValueSource = 'env' | 'file' | 'certificate' | 'default';

/** thin-edge keys that mean nothing here and are accepted without a warning. */
const IGNORED_KEYS: ReadonlySet<string> = new Set(['config.version']);

/** The device identity keys a cloud (and a profile) may override with `<cloud>.device.*`. */
const DEVICE_KEYS: ReadonlySet<string> = new Set(['device.id', 'device.cert_path', 'device.key_path', 'device.csr_path']);

/** A key as the user typed it: a table key, or a profiled one (`c8y.profiles.p.url`, or `c8y.url` with --profile p). */
export interface ResolvedKey {
  readonly key: ConfigKey;
  readonly scope: CloudScope | undefined;
}

/** What is read from and written to the configuration file; shared by a config and its cloud views. */
interface FileState {
  readonly file: ConfigFile;
  /** Known keys (profiled ones by their stored name, `c8y.profiles.p.url`) → text. */
  readonly values: Map<string, string>;
  /** The line of each key read from tedge.ini, for errors that point at it (0: tedge.toml). */
  readonly lines: ReadonlyMap<string, number>;
  /** Keys of the file we do not know (a newer version's, a typo): written back as they were. */
  readonly unknown: ReadonlyMap<string, string>;
  readonly document: TomlTable | undefined;
  /** Key prefixes (`c8y.`, `c8y.profiles.p.`) read from thin-edge 2.x mapper.toml files, and those files. */
  readonly mapperFiles: ReadonlyMap<string, string>;
}

/**
 * The effective configuration: file values, TEDGE_<KEY> env overrides and table defaults. A view
 * for one cloud connection (forCloud) reads `<cloud>.*` keys from its profile and `device.*` from
 * `<cloud>.device.*` when set: code that takes a config is written once for every profile.
 */
export class TedgeConfig {
  private constructor(
    readonly configDir: string,
    private readonly state: FileState,
    private readonly env: Readonly<Record<string, string | undefined>>,
    /** What is wrong in the file but does not stop anything (unknown keys), one line each naming file and line. */
    readonly warnings: readonly string[],
    /** The connection this view reads cloud keys for; undefined: the plain keys. */
    readonly scope: CloudScope | undefined = undefined,
  ) {}

  /**
   * Reads `<configDir>/tedge.ini`, or thin-edge's tedge.toml when only that exists (missing = all
   * defaults; both = an error naming both); env values are validated on read.
   */
  static load(dir: string, env: Readonly<Record<string, string | undefined>> = {}): TedgeConfig {
    // Absolute, as the paths derived from it must be (path keys are absolute, as thin-edge's): `--config-dir ./cfg` works.
    const configDir = resolve(dir);
    const file = locateConfigFile(configDir);
    const contents = readConfigFile(file);
    const values = new Map<string, string>();
    const lines = new Map<string, number>();
    const warnings: string[] = [];
    const unknown = new Map<string, string>();
    const mapperFiles = new Map<string, string>();
    // thin-edge 2.x keeps a cloud's settings in mappers/<cloud>[.<profile>]/mapper.toml; there, they win over tedge.toml, as in thin-edge.
    const fromMappers = new Map<string, { text: string; line: number; path: string }>();
    for (const mapper of readMapperConfigs(configDir)) {
      mapperFiles.set(mapper.keyPrefix, mapper.path);
      for (const [key, entry] of mapper.values) fromMappers.set(`${mapper.keyPrefix}${key}`, { ...entry, path: mapper.path });
    }
    const shadowed = new Set<string>();
    for (const [key, entry] of contents.values) {
      const owner = mapperPrefixOf(key, mapperFiles);
      if (owner !== undefined) {
        shadowed.add(owner);
        continue;
      }
      // Unknown keys are kept out of the effective config but never deleted from the file by us.
      if (!isConfigKey(key) && parseProfiledKey(key) === undefined) {
        if (!IGNORED_KEYS.has(key)) warnings.push(`${file.path}${entry.line > 0 ? `:${entry.line}` : ''}: ${unknownKeyText(key)}`);
        unknown.set(key, entry.text);
        continue;
      }
      values.set(key, entry.text);
      lines.set(key, entry.line);
    }
    for (const prefix of shadowed) warnings.push(`${file.path}: its ${prefix}* settings are ignored: ${mapperFiles.get(prefix) ?? ''} holds them (thin-edge 2.x mapper configuration)`);
    for (const [key, entry] of fromMappers) {
      if (!isConfigKey(key) && parseProfiledKey(key) === undefined) {
        warnings.push(`${entry.path}: ${unknownKeyText(key)}`);
        continue;
      }
      values.set(key, entry.text);
      lines.set(key, 0);
    }
    return new TedgeConfig(configDir, { file, values, lines, unknown, document: contents.document, mapperFiles }, env, warnings);
  }

  /** The file in use: tedge.ini, or tedge.toml on a device taken over from thin-edge.io. */
  get filePath(): string {
    return this.state.file.path;
  }

  get fileKind(): 'ini' | 'toml' {
    return this.state.file.kind;
  }

  /** The view of one connection: `cloud` with its named profile, or its default one (profile undefined). */
  forCloud(cloud: ProfileCloud, profile: string | undefined): TedgeConfig {
    return new TedgeConfig(this.configDir, this.state, this.env, this.warnings, { cloud, profile });
  }

  /** The profile names of `cloud` that have a value in the file or the environment. */
  profiles(cloud: ProfileCloud): string[] {
    const names = new Set<string>();
    const envKeys = Object.keys(this.env).filter((k) => k.startsWith(`TEDGE_${cloud.toUpperCase()}_PROFILES_`) && this.env[k] !== '');
    for (const key of this.state.values.keys()) {
      const parsed = parseProfiledKey(key);
      if (parsed?.scope.cloud === cloud && parsed.scope.profile !== undefined) names.add(parsed.scope.profile);
    }
    for (const name of envKeys) {
      const m = /^TEDGE_[A-Z0-9]+_PROFILES_([A-Z0-9-]+?)_[A-Z]/.exec(name);
      if (m?.[1] !== undefined) names.add(m[1].toLowerCase());
    }
    return [...names].sort();
  }

  private stored(key: ConfigKey): string {
    return storedKeyOf(key, this.scope);
  }

  /** A value set for `key` itself (env, then file), without defaults. */
  private raw(key: ConfigKey): { text: string; source: 'env' | 'file' } | undefined {
    const stored = this.stored(key);
    const fromEnv = this.env[envName(stored)];
    if (fromEnv !== undefined && fromEnv !== '') return { text: fromEnv, source: 'env' };
    const fromFile = this.state.values.get(stored);
    return fromFile === undefined ? undefined : { text: fromFile, source: 'file' };
  }

  /** In a cloud view, `device.cert_path` is `<cloud>.device.cert_path` when that is set. */
  private own(key: ConfigKey): ConfigKey | undefined {
    if (this.scope === undefined || !DEVICE_KEYS.has(key)) return undefined;
    const own = `${this.scope.cloud}.${key}`;
    return isConfigKey(own) ? own : undefined;
  }

  /** The effective text of a key, and where it came from; undefined when unset with no default. */
  lookup(key: ConfigKey): { text: string; source: ValueSource } | undefined {
    const own = this.own(key);
    if (key === 'device.id') {
      const fromEnv = (own === undefined ? undefined : this.raw(own)?.source === 'env' ? this.raw(own) : undefined) ?? (this.raw(key)?.source === 'env' ? this.raw(key) : undefined);
      if (fromEnv !== undefined) return fromEnv;
      const cn = this.certificateCommonName();
      if (cn !== undefined) return { text: cn, source: 'certificate' };
    }
    const found = (own === undefined ? undefined : this.raw(own)) ?? this.raw(key);
    if (found !== undefined) return found;
    const def = CONFIG_KEYS[key].default;
    const text = typeof def === 'function' ? def({ configDir: this.configDir, get: (k) => (isConfigKey(k) ? this.text(k) : undefined) }) : def;
    return text === undefined ? undefined : { text, source: 'default' };
  }

  text(key: ConfigKey): string | undefined {
    return this.lookup(key)?.text;
  }

  value(key: ConfigKey): ConfigValue | undefined {
    const found = this.lookup(key);
    return found === undefined ? undefined : this.parse(key, found);
  }

  /** A bad value names where it came from: the file and line, or the environment variable. */
  private parse(key: ConfigKey, found: { text: string; source: ValueSource }): ConfigValue {
    const def = CONFIG_KEYS[key];
    try {
      return parseValue(this.stored(key), def.type, found.text, def);
    } catch (err) {
      const line = this.state.lines.get(this.stored(key));
      if (found.source === 'file' && line !== undefined) throw new TedgeError('CONFIG_INVALID_VALUE', `${this.filePath}${line > 0 ? `:${line}` : ''}: ${errorMessage(err)}`, { cause: err });
      if (found.source === 'env') throw new TedgeError('CONFIG_INVALID_VALUE', `${envName(this.stored(key))}: ${errorMessage(err)}`, { cause: err });
      throw err;
    }
  }

  /** A key that must have a value (it has a default, or the caller requires it set). */
  string(key: ConfigKey): string {
    const found = this.lookup(key);
    if (found === undefined) throw new TedgeError('CONFIG_INVALID_VALUE', `'${this.stored(key)}' is not set; set it with: tedge config set ${this.stored(key)} <value>`);
    return formatValue(this.parse(key, found));
  }

  number(key: ConfigKey): number {
    const v = this.value(key);
    if (typeof v !== 'number') throw new TedgeError('CONFIG_INVALID_VALUE', `'${this.stored(key)}' is not set to a number`);
    return v;
  }

  boolean(key: ConfigKey): boolean {
    const v = this.value(key);
    if (typeof v !== 'boolean') throw new TedgeError('CONFIG_INVALID_VALUE', `'${this.stored(key)}' is not set to true or false`);
    return v;
  }

  list(key: ConfigKey): readonly string[] {
    const v = this.value(key);
    return Array.isArray(v) ? v : [];
  }

  /** The CN of the device certificate, which owns device.id once it exists. */
  certificateCommonName(): string | undefined {
    const cert = this.readCertificate();
    return 'cn' in cert ? cert.cn : undefined;
  }

  /**
   * The device id, or one line saying why there is none: a certificate that exists but cannot be read
   * is named as such (it used to read as "'device.id' is not set").
   */
  deviceId(): string {
    const found = this.lookup('device.id');
    if (found !== undefined && found.source !== 'file' && found.text !== '') return found.text;
    const cert = this.readCertificate();
    if ('problem' in cert) throw new TedgeError('CERT_INVALID', `the device certificate ${cert.path} cannot be used: ${cert.problem}; device.id is its CN (replace it, or remove it and run: tedge cert create --device-id ID)`);
    if (found !== undefined && found.text !== '') return found.text;
    throw new TedgeError('CONFIG_INVALID_VALUE', `'device.id' is not set: create a device certificate (tedge cert create --device-id ID) or run: tedge config set device.id ID`);
  }

  private readCertificate(): { cn: string } | { path: string; problem: string } | { none: true } {
    const certPath = this.text('device.cert_path') ?? join(this.configDir, 'device-certs', 'tedge-certificate.pem');
    if (!existsSync(certPath)) return { none: true };
    try {
      // commonNameOf undoes node's RFC 2253 escapes: a device id may contain ',' (printed `\,`).
      const cn = commonNameOf(new X509Certificate(readFileSync(certPath)).subject);
      return cn === undefined || cn === '' ? { path: certPath, problem: 'it has no CN' } : { cn };
    } catch (err) {
      return { path: certPath, problem: errorMessage(err) };
    }
  }

  /** `c8y.url` (in this view's profile), `c8y.profiles.p.url`, or `c8y.url` with `--profile p`. */
  resolve(text: string, profile?: string): ResolvedKey {
    const profiled = parseProfiledKey(text);
    if (profiled !== undefined) return profiled;
    const key = requireKey(text);
    if (profile === undefined) return { key, scope: this.scope };
    const cloud = (['c8y', 'az', 'aws'] as const).find((c) => isProfileableKey(key, c));
    if (cloud === undefined) throw new TedgeError('USAGE', `'${key}' has no per-profile value: --profile applies to c8y.*, az.* and aws.* keys`);
    return { key, scope: { cloud, profile } };
  }

  /** The view a resolved key is read in. */
  viewOf(resolved: ResolvedKey): TedgeConfig {
    return resolved.scope === undefined ? this : this.forCloud(resolved.scope.cloud, resolved.scope.profile);
  }

  /** Validates and writes a value to the file (atomically: temp file + rename). */
  set(key: string, text: string, profile?: string): void {
    const resolved = this.resolve(key, profile);
    const view = this.viewOf(resolved);
    const k = resolved.key;
    this.refuseMapperFileKey(view.stored(k));
    if ((k === 'device.id' || /^(c8y|az|aws)\.device\.id$/.test(k)) && this.identityView(resolved).certificateCommonName() !== undefined) {
      throw new TedgeError('CONFIG_READ_ONLY', `'${view.stored(k)}' is read-only: it is the CN of the device certificate; remove the certificate to change it`);
    }
    const def = CONFIG_KEYS[k];
    const value = parseValue(view.stored(k), def.type, text, def);
    this.state.values.set(view.stored(k), formatValue(value));
    this.save();
  }

  /** `c8y.device.id` is read-only when the certificate of c8y's view has a CN. */
  private identityView(resolved: ResolvedKey): TedgeConfig {
    const m = /^(c8y|az|aws)\.device\.id$/.exec(resolved.key);
    const cloud = m?.[1] as ProfileCloud | undefined;
    return cloud === undefined ? this.viewOf(resolved) : this.forCloud(cloud, resolved.scope?.profile);
  }

  unset(key: string, profile?: string): void {
    const resolved = this.resolve(key, profile);
    this.refuseMapperFileKey(this.viewOf(resolved).stored(resolved.key));
    this.state.values.delete(this.viewOf(resolved).stored(resolved.key));
    this.save();
  }

  /** `tedge config add`: the list key's effective items plus `item`, each once, sorted (thin-edge's set semantics). */
  add(key: string, item: string, profile?: string): void {
    const { resolved, items, view } = this.listItems(key, profile);
    const added = parseValue(view.stored(resolved.key), 'string-list', item) as readonly string[];
    this.set(view.stored(resolved.key), [...new Set([...items, ...added])].sort().join(','));
  }

  /** `tedge config remove`: the list key's effective items without `item`; a key that is not a list is unset when equal (as thin-edge). */
  remove(key: string, item: string, profile?: string): void {
    const single = this.resolve(key, profile);
    if (CONFIG_KEYS[single.key].type !== 'string-list') {
      const view = this.viewOf(single);
      if (this.state.values.get(view.stored(single.key)) === item) this.unset(view.stored(single.key));
      return;
    }
    const { resolved, items, view } = this.listItems(key, profile);
    const removed = new Set(parseValue(view.stored(resolved.key), 'string-list', item) as readonly string[]);
    this.state.values.set(view.stored(resolved.key), items.filter((i) => !removed.has(i)).join(','));
    this.save();
  }

  private listItems(key: string, profile: string | undefined): { resolved: ResolvedKey; items: readonly string[]; view: TedgeConfig } {
    const resolved = this.resolve(key, profile);
    const view = this.viewOf(resolved);
    if (CONFIG_KEYS[resolved.key].type !== 'string-list') throw new TedgeError('USAGE', `'${view.stored(resolved.key)}' is not a list: use tedge config set`);
    this.refuseMapperFileKey(view.stored(resolved.key));
    return { resolved, items: view.list(resolved.key), view };
  }

  /** A key read from a thin-edge 2.x mapper.toml is not written to another file, where it would be ignored. */
  private refuseMapperFileKey(stored: string): void {
    const owner = mapperPrefixOf(stored, this.state.mapperFiles);
    if (owner === undefined) return;
    throw new TedgeError('CONFIG_FILE', `'${stored}' is read from ${this.state.mapperFiles.get(owner) ?? ''} (thin-edge 2.x mapper configuration), which tedge-ts does not write: edit that file`);
  }

  private save(): void {
    writeConfigFile(this.state.file, this.state.values, this.state.unknown, typeOfStored, this.state.document);
  }
}

/** The mapper.toml prefix (`c8y.`, `c8y.profiles.p.`) that owns a stored key; `c8y.` does not own `c8y.profiles.*`. */
function mapperPrefixOf(stored: string, mapperFiles: ReadonlyMap<string, string>): string | undefined {
  for (const prefix of mapperFiles.keys()) {
    if (!stored.startsWith(prefix)) continue;
    if (!prefix.includes('.profiles.') && stored.startsWith(`${prefix}profiles.`)) continue;
    return prefix;
  }
  return undefined;
}

function typeOfStored(stored: string): (typeof CONFIG_KEYS)[ConfigKey]['type'] | undefined {
  if (isConfigKey(stored)) return CONFIG_KEYS[stored].type;
  const profiled = parseProfiledKey(stored);
  return profiled === undefined ? undefined : CONFIG_KEYS[profiled.key].type;
}

export function requireKey(key: string): ConfigKey {
  if (isConfigKey(key)) return key;
  const feature = thinEdgeOnlyFeature(key);
  if (feature !== undefined) throw new TedgeError('CONFIG_UNKNOWN_KEY', `'${key}' is a thin-edge.io key of a feature tedge-ts does not have: ${feature}`);
  throw new TedgeError('CONFIG_UNKNOWN_KEY', `unknown configuration key: '${key}'; see: tedge config list --doc`);
}

/** The warning for a key of the file that is not ours: a thin-edge feature we lack, or a key nobody knows. */
function unknownKeyText(key: string): string {
  const feature = thinEdgeOnlyFeature(key);
  return feature === undefined ? `unknown configuration key '${key}' (ignored; see: tedge config list --doc)` : `'${key}' is ignored: tedge-ts does not have ${feature}`;
}

/** The config dir from --config-dir, then TEDGE_CONFIG_DIR, then /etc/tedge. */
export function resolveConfigDir(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  return flag ?? env['TEDGE_CONFIG_DIR'] ?? DEFAULT_CONFIG_DIR;
}
