import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage, TedgeError } from '../../../core/errors';

/**
 * PEM certificates of a file or of a directory of them (`c8y.root_cert_path` is `/etc/ssl/certs`
 * by default; `c8y.proxy.ca_path` may be either), concatenated.
 */
export function readCaBundle(path: string, key: string): string {
  try {
    if (!statSync(path).isDirectory()) return readFileSync(path, 'utf8');
    const pems: string[] = [];
    for (const name of readdirSync(path).sort()) {
      if (!/\.(pem|crt)$/.test(name)) continue;
      try {
        pems.push(readFileSync(join(path, name), 'utf8'));
      } catch {
        // A dangling link in /etc/ssl/certs is not a reason to trust nothing.
      }
    }
    return pems.join('\n');
  } catch (e) {
    throw new TedgeError('CONFIG_FILE', `cannot read ${key} ${path}: ${errorMessage(e)}`, { cause: e });
  }
}
