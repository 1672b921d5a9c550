import { TedgeError } from '../core/errors';
import { type ConfigKey, isConfigKey } from './keys';

/**
 * Cloud profiles (thin-edge's `c8y.profiles.<name>.*`, and az/aws): a second connection to the
 * same kind of cloud, with its own url, certificate, bridge prefix and mapper. A profiled key is
 * stored as `<cloud>.profiles.<name>.<rest>` and read, through TedgeConfig.forCloud, as `<cloud>.<rest>`,
 * so that the mapper, the bridge and `tedge connect` are written once for both.
 */
export type ProfileCloud = 'c8y' | 'az' | 'aws';
export const PROFILE_CLOUDS: readonly ProfileCloud[] = ['c8y', 'az', 'aws'];

/** One connection: the cloud and, for a named profile, its name (undefined = the default one). */
export interface CloudScope {
  readonly cloud: ProfileCloud;
  readonly profile: string | undefined;
}

/** thin-edge's rule: letters, digits, `-` and `_`, at least one letter or digit; case-insensitive (kept lower-case). */
export function profileName(text: string): string {
  if (text === '' || !/^[\p{L}\p{N}_-]+$/u.test(text) || !/[\p{L}\p{N}]/u.test(text)) {
    throw new TedgeError('USAGE', `invalid profile name '${text}': profile names can only contain letters, numbers, '-' or '_'`);
  }
  return text.toLowerCase();
}

/** Keys a profile has its own value of: those of its cloud's section. */
export function isProfileableKey(key: ConfigKey, cloud: ProfileCloud): boolean {
  return key.startsWith(`${cloud}.`);
}

/** `c8y.url` in profile `second` → `c8y.profiles.second.url`; other keys and the default profile are unchanged. */
export function storedKeyOf(key: ConfigKey, scope: CloudScope | undefined): string {
  if (scope?.profile === undefined || !isProfileableKey(key, scope.cloud)) return key;
  return `${scope.cloud}.profiles.${scope.profile}.${key.slice(scope.cloud.length + 1)}`;
}

/** `c8y.profiles.second.url` → the key `c8y.url` of profile `second`; undefined for a key that is not profiled. */
export function parseProfiledKey(key: string): { readonly key: ConfigKey; readonly scope: CloudScope } | undefined {
  const m = /^(c8y|az|aws)\.profiles\.([^.]+)\.(.+)$/.exec(key);
  if (m === null) return undefined;
  const cloud = m[1] as ProfileCloud;
  const base = `${cloud}.${m[3] ?? ''}`;
  if (!isConfigKey(base)) return undefined;
  let profile: string;
  try {
    profile = profileName(m[2] ?? '');
  } catch {
    return undefined;
  }
  return { key: base, scope: { cloud, profile } };
}

/** thin-edge's service name of a mapper: `tedge-mapper-c8y`, `tedge-mapper-c8y@second`. */
export function mapperServiceName(scope: CloudScope): string {
  return scope.profile === undefined ? `tedge-mapper-${scope.cloud}` : `tedge-mapper-${scope.cloud}@${scope.profile}`;
}

/** `c8y`, `c8y@second`: how commands and files name a connection. */
export function scopeLabel(scope: CloudScope): string {
  return scope.profile === undefined ? scope.cloud : `${scope.cloud}@${scope.profile}`;
}

/** `--profile` when given, else TEDGE_CLOUD_PROFILE as thin-edge reads it; undefined = the default profile. */
export function profileOption(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const text = flag ?? env['TEDGE_CLOUD_PROFILE'];
  return text === undefined || text === '' ? undefined : profileName(text);
}
