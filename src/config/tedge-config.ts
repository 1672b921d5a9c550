import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ini from 'ini';
import { parseIniFile } from './ini-file';
import { commonNameOf } from '../certs/subject';
import { TedgeError, errorMessage } from '../core/errors';
import { CONFIG_KEYS, type ConfigKey, envName, isConfigKey } from './keys';
import { type ConfigValue, formatValue, parseValue } from './value-types';

export const DEFAULT_CONFIG_DIR = '/etc/tedge';
export const CONFIG_FILE_NAME = 'tedge.ini';

export type ValueSource = 'env' | 'file' | 'certificate' | 'default';

/** The effective configuration: file values, TEDGE_<KEY> env overrides and table defaults. */
export class TedgeConfig {
  private constructor(
    readonly configDir: string,
    private readonly fileValues: Map<ConfigKey, string>,
    private readonly env: Readonly<Record<string, string | undefined>>,
    /** The line of each key read from the file, for errors that point at it. */
    private readonly fileLines: ReadonlyMap<ConfigKey, number> = new Map(),
    /** What is wrong in the file but does not stop anything (unknown keys), one line each naming file and line. */
    readonly warnings: readonly string[] = [],
    /** Keys of the file we do not know (a newer version's, a typo): written back as they were. */
    private readonly unknownValues: ReadonlyMap<string, string> = new Map(),
  ) {}

  /** Reads `<configDir>/tedge.ini` (missing file = all defaults); env values are validated on read. */
  static load(configDir: string, env: Readonly<Record<string, string | undefined>> = {}): TedgeConfig {
    const path = join(configDir, CONFIG_FILE_NAME);
    const values = new Map<ConfigKey, string>();
    const lines = new Map<ConfigKey, number>();
    const warnings: string[] = [];
    const unknown = new Map<string, string>();
    if (existsSync(path)) {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (cause) {
        throw new TedgeError('CONFIG_FILE', `cannot read ${path}: ${(cause as Error).message}`, { cause });
      }
      for (const [key, entry] of parseIniFile(path, text)) {
        // Unknown keys are kept out of the effective config but never deleted from the file by us.
        if (!isConfigKey(key)) {
          warnings.push(`${path}:${entry.line}: unknown configuration key '${key}' (ignored; see: tedge config list --doc)`);
          unknown.set(key, entry.text);
          continue;
        }
        values.set(key, entry.text);
        lines.set(key, entry.line);
      }
    }
    return new TedgeConfig(configDir, values, env, lines, warnings, unknown);
  }

  get filePath(): string {
    return join(this.configDir, CONFIG_FILE_NAME);
  }

  /** The effective text of a key, and where it came from; undefined when unset with no default. */
  lookup(key: ConfigKey): { text: string; source: ValueSource } | undefined {
    const fromEnv = this.env[envName(key)];
    if (fromEnv !== undefined && fromEnv !== '') return { text: fromEnv, source: 'env' };
    if (key === 'device.id') {
      const cn = this.certificateCommonName();
      if (cn !== undefined) return { text: cn, source: 'certificate' };
    }
    const fromFile = this.fileValues.get(key);
    if (fromFile !== undefined) return { text: fromFile, source: 'file' };
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
    try {
      return parseValue(key, CONFIG_KEYS[key].type, found.text);
    } catch (err) {
      const line = this.fileLines.get(key);
      if (found.source === 'file' && line !== undefined) throw new TedgeError('CONFIG_INVALID_VALUE', `${this.filePath}:${line}: ${errorMessage(err)}`, { cause: err });
      if (found.source === 'env') throw new TedgeError('CONFIG_INVALID_VALUE', `${envName(key)}: ${errorMessage(err)}`, { cause: err });
      throw err;
    }
  }

  /** A key that must have a value (it has a default, or the caller requires it set). */
  string(key: ConfigKey): string {
    const found = this.lookup(key);
    if (found === undefined) throw new TedgeError('CONFIG_INVALID_VALUE', `'${key}' is not set; set it with: tedge config set ${key} <value>`);
    return formatValue(this.parse(key, found));
  }

  number(key: ConfigKey): number {
    const v = this.value(key);
    if (typeof v !== 'number') throw new TedgeError('CONFIG_INVALID_VALUE', `'${key}' is not set to a number`);
    return v;
  }

  boolean(key: ConfigKey): boolean {
    const v = this.value(key);
    if (typeof v !== 'boolean') throw new TedgeError('CONFIG_INVALID_VALUE', `'${key}' is not set to true or false`);
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
    const fromEnv = this.env[envName('device.id')];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    const cert = this.readCertificate();
    if ('cn' in cert) return cert.cn;
    if ('problem' in cert) throw new TedgeError('CERT_INVALID', `the device certificate ${cert.path} cannot be used: ${cert.problem}; device.id is its CN (replace it, or remove it and run: tedge cert create --device-id ID)`);
    const fromFile = this.fileValues.get('device.id');
    if (fromFile !== undefined && fromFile !== '') return fromFile;
    throw new TedgeError('CONFIG_INVALID_VALUE', `'device.id' is not set: create a device certificate (tedge cert create --device-id ID) or run: tedge config set device.id ID`);
  }

  private readCertificate(): { cn: string } | { path: string; problem: string } | { none: true } {
    const certPath = this.env[envName('device.cert_path')] ?? this.fileValues.get('device.cert_path') ?? join(this.configDir, 'device-certs', 'tedge-certificate.pem');
    if (!existsSync(certPath)) return { none: true };
    try {
      // commonNameOf undoes node's RFC 2253 escapes: a device id may contain ',' (printed `\,`).
      const cn = commonNameOf(new X509Certificate(readFileSync(certPath)).subject);
      return cn === undefined || cn === '' ? { path: certPath, problem: 'it has no CN' } : { cn };
    } catch (err) {
      return { path: certPath, problem: errorMessage(err) };
    }
  }

  /** Validates and writes a value to the file (atomically: temp file + rename). */
  set(key: string, text: string): void {
    const k = requireKey(key);
    if (k === 'device.id' && this.certificateCommonName() !== undefined) {
      throw new TedgeError('CONFIG_READ_ONLY', `'device.id' is read-only: it is the CN of the device certificate; remove the certificate to change it`);
    }
    const value = parseValue(k, CONFIG_KEYS[k].type, text);
    this.fileValues.set(k, formatValue(value));
    this.save();
  }

  unset(key: string): void {
    this.fileValues.delete(requireKey(key));
    this.save();
  }

  private save(): void {
    const tree: Record<string, Record<string, string>> = {};
    for (const [key, value] of [...this.fileValues.entries(), ...this.unknownValues.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const dot = key.lastIndexOf('.');
      const section = key.slice(0, dot);
      (tree[section] ??= {})[key.slice(dot + 1)] = value;
    }
    const text = Object.entries(tree)
      .map(([section, entries]) => `[${section}]\n${Object.entries(entries).map(([k, v]) => `${k} = ${ini.safe(v)}`).join('\n')}\n`)
      .join('\n');
    mkdirSync(dirname(this.filePath), { recursive: true });
    const tmp = `${this.filePath}.tmp-${process.pid}`;
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, this.filePath);
  }
}

export function requireKey(key: string): ConfigKey {
  if (!isConfigKey(key)) throw new TedgeError('CONFIG_UNKNOWN_KEY', `unknown configuration key: '${key}'; see: tedge config list --doc`);
  return key;
}

/** The config dir from --config-dir, then TEDGE_CONFIG_DIR, then /etc/tedge. */
export function resolveConfigDir(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  return flag ?? env['TEDGE_CONFIG_DIR'] ?? DEFAULT_CONFIG_DIR;
}
