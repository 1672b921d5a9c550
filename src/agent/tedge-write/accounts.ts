import { readFileSync } from 'node:fs';

/**
 * User and group names to ids, from /etc/passwd and /etc/group (Node has no getpwnam). A number is taken
 * as an id. Directory services (LDAP, sssd) are not consulted: device users are local accounts.
 */
export function lookupId(kind: 'user' | 'group', name: string, files = { passwd: '/etc/passwd', group: '/etc/group' }): number {
  if (/^\d+$/.test(name)) return Number(name);
  const file = kind === 'user' ? files.passwd : files.group;
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // no such file: no such name
  }
  const id = idIn(text, name);
  if (id === undefined) throw new Error(`no such ${kind}: '${name}'`);
  return id;
}

/** Pure: the id (third field) of `name` in passwd/group text. */
export function idIn(text: string, name: string): number | undefined {
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields[2] !== undefined && /^\d+$/.test(fields[2])) return Number(fields[2]);
  }
  return undefined;
}

/** `644`, `0644`, `0o644` → 0o644; thin-edge's tedge-write takes octal text. */
export function parseMode(text: string): number {
  const digits = text.replace(/^0o/, '');
  if (!/^[0-7]{1,4}$/.test(digits)) throw new Error(`invalid mode: ${text} (expected octal, e.g. 644)`);
  return parseInt(digits, 8);
}
