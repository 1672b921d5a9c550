import { existsSync, readFileSync } from 'node:fs';
import { TedgeError, errorMessage } from '../../../core/errors';
import { parseToml } from '../../../config/toml';

export interface BasicCredentials {
  readonly username: string;
  readonly password: string;
}

export type AuthType = 'basic' | 'certificate';

/**
 * `c8y.auth_method` → what is used (thin-edge's AuthMethod::to_type): `auto` is basic when the
 * credentials file exists, certificate (JWT) otherwise.
 */
export function authType(method: string, credentialsFileExists: boolean): AuthType {
  switch (method) {
    case 'basic':
      return 'basic';
    case 'certificate':
      return 'certificate';
    case 'auto':
      return credentialsFileExists ? 'basic' : 'certificate';
    default:
      throw new TedgeError('CONFIG_INVALID_VALUE', `c8y.auth_method must be auto, certificate or basic, not '${method}'`);
  }
}

/** thin-edge's credentials file: `[c8y]` with `username` and `password`. The values never reach an error text. */
export function parseCredentials(text: string, source: string): BasicCredentials {
  const doc = parseToml(text, source);
  const c8y = doc['c8y'];
  const table = typeof c8y === 'object' && c8y !== null && !Array.isArray(c8y) ? (c8y as Record<string, unknown>) : undefined;
  const username = table?.['username'];
  const password = table?.['password'];
  if (typeof username !== 'string' || typeof password !== 'string') {
    throw new TedgeError('CONFIG_FILE', `${source}: expected [c8y] with string username and password`);
  }
  return { username, password };
}

export function readCredentials(path: string): BasicCredentials {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TedgeError('CONFIG_FILE', `cannot read the Cumulocity credentials file ${path}: ${errorMessage(e)}`, { cause: e });
  }
  return parseCredentials(text, path);
}

export function credentialsExist(path: string): boolean {
  return existsSync(path);
}

export function basicHeader(c: BasicCredentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}
