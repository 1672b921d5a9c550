/** The simulated tenant's name: user names may be written `t-sim/<user>`, as on Cumulocity. */
export const SIM_TENANT = 't-sim';

/**
 * Who may call the simulated REST API: a device with a JWT the tenant handed out (and did not expire),
 * or a user with its password (basic auth, `<user>` or `<tenant>/<user>`). Pure.
 */
export function authorized(header: string | undefined, tokens: ReadonlySet<string>, users: ReadonlyMap<string, string>): boolean {
  if (header === undefined) return false;
  if (header.startsWith('Bearer ')) return tokens.has(header.slice('Bearer '.length));
  if (!header.startsWith('Basic ')) return false;
  const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const user = decoded.slice(0, colon).replace(new RegExp(`^${SIM_TENANT}/`), '');
  return users.has(user) && users.get(user) === decoded.slice(colon + 1);
}
