import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isConfigKey } from '../config/keys';
import { PROFILE_CLOUDS, type ProfileCloud, profileName } from '../config/profiles';
import type { TedgeConfig } from '../config/tedge-config';
import { TedgeError, errorMessage } from '../core/errors';
import { type Sourced, type ValueSource, effectiveValue, parseMapperUrl, readMapperToml, resolveMapperConfig, valueAt } from './user-mapper-config';

/**
 * The mappers of `<config-dir>/mappers/`, as thin-edge's `tedge mapper list` and `tedge mapper config get`
 * see them: every directory is a mapper; the built-in clouds' directories (`c8y`, `az`, `aws` and their
 * `<cloud>.<profile>`) take their values from the configuration (tedge.ini / tedge.toml and their
 * mapper.toml, as thin-edge 2.x migrates them), the others from their own mapper.toml.
 */

export interface MapperRow {
  readonly name: string;
  readonly url: string;
  /** `<id> [<where from>]`, empty when it cannot be told. */
  readonly deviceId: string;
  readonly cloudType: string;
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function mappersRoot(config: TedgeConfig): string {
  return join(config.configDir, 'mappers');
}

/** The directory names under `mappers/`, sorted. */
export function mapperNames(config: TedgeConfig): string[] {
  const root = mappersRoot(config);
  if (!isDir(root)) return [];
  return readdirSync(root)
    .filter((n) => isDir(join(root, n)))
    .sort();
}

/** `c8y` → the default c8y connection, `c8y.prod` → its profile `prod`; undefined for any other name. */
export function builtInScope(name: string): { readonly cloud: ProfileCloud; readonly profile: string | undefined } | undefined {
  const [head, ...rest] = name.split('.');
  const cloud = PROFILE_CLOUDS.find((c) => c === head);
  if (cloud === undefined) return undefined;
  if (rest.length === 0) return { cloud, profile: undefined };
  try {
    return rest.length === 1 ? { cloud, profile: profileName(rest[0] ?? '') } : undefined;
  } catch {
    return undefined;
  }
}

/** The short tag in brackets after a device id; the configuration file is named as it is on this device. */
export function sourceTag(source: ValueSource, config: TedgeConfig): string {
  return source.tag === 'tedge.toml' ? basename(config.filePath) : source.tag;
}

/** `host:port`, 8883 when the setting has no port, as thin-edge prints a mapper's url. */
function withPort(url: string): string {
  try {
    const { host, port } = parseMapperUrl(url, '');
    return `${host}:${port}`;
  } catch {
    return url;
  }
}

/** A setting of a built-in cloud's connection, with where its value comes from. */
function builtInValue(config: TedgeConfig, name: string, scope: NonNullable<ReturnType<typeof builtInScope>>, key: string): Sourced<string> | 'not set' | 'unknown' {
  const view = config.forCloud(scope.cloud, scope.profile);
  // device.* of a cloud: its own <cloud>.device.* when set, else the device's (the certificate's CN for the id).
  const full = key.startsWith('device.') && isConfigKey(key) ? key : `${scope.cloud}.${key}`;
  if (!isConfigKey(full)) return 'unknown';
  const found = view.lookup(full);
  if (found === undefined || found.text === '') return 'not set';
  const inMapperToml = (() => {
    try {
      const toml = readMapperToml(join(mappersRoot(config), name));
      return toml !== undefined && valueAt(toml.table, key) !== undefined;
    } catch {
      return false;
    }
  })();
  const source: ValueSource =
    found.source === 'certificate'
      ? { tag: 'cert CN', certPath: view.text('device.cert_path') ?? '' }
      : found.source === 'default'
        ? { tag: 'default' }
        : inMapperToml
          ? { tag: 'mapper.toml' }
          : { tag: 'tedge.toml' };
  return { value: key === 'url' ? withPort(found.text) : found.text, source };
}

/** One line of `tedge mapper list`; a mapper whose configuration cannot be read shows its name alone, with `problem` said apart. */
export function mapperRow(config: TedgeConfig, name: string): { readonly row: MapperRow; readonly problem?: string } {
  const bare: MapperRow = { name, url: '', deviceId: '', cloudType: '' };
  const scope = builtInScope(name);
  try {
    const toml = readMapperToml(join(mappersRoot(config), name));
    if (scope !== undefined) {
      const url = builtInValue(config, name, scope, 'url');
      if (typeof url === 'string' && toml === undefined) return { row: bare };
      const id = builtInValue(config, name, scope, 'device.id');
      return {
        row: {
          name,
          url: typeof url === 'string' ? '' : url.value,
          deviceId: typeof id === 'string' ? '' : `${id.value} [${sourceTag(id.source, config)}]`,
          cloudType: toml?.cloudType ?? scope.cloud,
        },
      };
    }
    if (toml === undefined) return { row: bare };
    const cloudType = toml.cloudType ?? '';
    try {
      const effective = resolveMapperConfig(config, toml);
      const id = effective.deviceId;
      return { row: { name, url: effective.url?.value ?? '', deviceId: id === undefined ? '' : `${id.value} [${sourceTag(id.source, config)}]`, cloudType } };
    } catch (err) {
      return { row: { ...bare, cloudType }, problem: errorMessage(err) };
    }
  } catch (err) {
    return { row: bare, problem: errorMessage(err) };
  }
}

/**
 * `<mapper>.<key>` split at the mapper: a known `<cloud>.<profile>` directory wins over `<cloud>`
 * (`c8y.new.url` is `url` of `c8y.new` when that directory exists), else the first segment.
 */
export function splitMapperKey(text: string, known: readonly string[]): { readonly mapper: string; readonly key: string } | undefined {
  const parts = text.split('.');
  if (parts.length < 2) return undefined;
  if (parts.length > 2 && known.includes(`${parts[0]}.${parts[1]}`)) return { mapper: `${parts[0]}.${parts[1]}`, key: parts.slice(2).join('.') };
  return { mapper: parts[0] ?? '', key: parts.slice(1).join('.') };
}

/** `tedge mapper config get <mapper>.<key>`: the effective value and where it comes from, or one clear error. */
export function mapperConfigValue(config: TedgeConfig, text: string): Sourced<string> {
  const names = mapperNames(config);
  const split = splitMapperKey(text, names);
  if (split === undefined || split.key === '' || split.mapper === '') throw new TedgeError('USAGE', `invalid key '${text}': expected <mapper>.<key>, e.g. thingsboard.url`);
  const { mapper, key } = split;
  const root = mappersRoot(config);
  if (!names.includes(mapper)) {
    throw new TedgeError('CONFIG_FILE', names.length === 0 ? `no mapper '${mapper}': there is no mapper under ${root}` : `no mapper '${mapper}' under ${root}; the mappers are: ${names.join(', ')}`);
  }
  const dir = join(root, mapper);
  const scope = builtInScope(mapper);
  let found: Sourced<string> | 'not set' | 'unknown';
  let certificateAuth = false;
  if (scope !== undefined) found = builtInValue(config, mapper, scope, key);
  else {
    const toml = readMapperToml(dir);
    if (toml === undefined) throw new TedgeError('CONFIG_FILE', `mapper '${mapper}' has no mapper.toml in ${dir}`);
    const effective = resolveMapperConfig(config, toml);
    certificateAuth = effective.auth.value === 'certificate';
    found = effectiveValue(effective, key);
  }
  if (found === 'unknown') throw new TedgeError('CONFIG_UNKNOWN_KEY', `unknown key '${key}' of mapper '${mapper}' (${mapper}.${key})`);
  if (found === 'not set') {
    if (key === 'device.id' && certificateAuth) {
      throw new TedgeError('CONFIG_INVALID_VALUE', `the device.id of mapper '${mapper}' is the CN of its certificate, which cannot be read: fix device.cert_path or set device.id in ${join(dir, 'mapper.toml')}`);
    }
    throw new TedgeError('CONFIG_INVALID_VALUE', `'${key}' is not set for mapper '${mapper}'`);
  }
  return found;
}
